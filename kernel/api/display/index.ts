/**
 * Rich display for notebooks: displayable objects (image grid, latent traversal, chart, metrics
 * table) carry their own MIME bundle (`[MIME_BUNDLE]()`), `display(x)` shows one mid-cell and
 * returns a handle that updates in place, and `liveTraining()` turns training events into a
 * live progress line and loss chart. Payload schemas: docs/payloads.md.
 */
export { display, DisplayHandle, toMimeBundle, resultBundle, html, text, clearOutput } from './display';
export { imageGrid, ImageGrid, type ImageGridOptions, type ImageGridParts } from './image-grid';
export { latentTraversal, LatentTraversal, type LatentTraversalOptions } from './latent-traversal';
export { chart, lineChart, Chart, type LineChartOptions } from './chart';
export { histogram, type HistogramOptions } from './histogram';
export { metricsTable, MetricsTable, RECORD_METADATA_KEY, type MetricsTableOptions, type MetricsRow, type MetricValue } from './metrics-table';
export { liveTraining, LiveTrainingDisplay, progressLine, type LiveTrainingOptions } from './live-training';
export { setDisplaySink, getDisplaySink, type DisplaySink } from './sink';
export { packImages, type ImageBatch, type SingleImage, type PackedImages } from './images';
export { MIME, MIME_BUNDLE, isDisplayable, type MimeBundle, type Displayable } from '../../contract/mime';
export { trainingHistory, radiusTable, evaluationTable, collapseTable, claimsTable, type TableOptions } from './tables';
export { setTraversal, type SetTraversalOptions } from './set-traversal';
export { interpolationGrid } from './interpolation-grid';
