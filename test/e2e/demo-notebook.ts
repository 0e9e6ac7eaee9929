/**
 * Builds notebooks/demo-outputs.ipynb: cells whose saved outputs are the MIME bundles the pertset
 * display API produces (our vendor type first, then text/html and text/plain fallbacks), for the
 * VS Code for the Web test and as a demo that opens without running anything.
 * Regenerate: `node dist/test/e2e/demo-notebook.js --write` (after `npx tsc -p tsconfig.json`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { chart, imageGrid, latentTraversal } from '../../kernel/api/display';
import { MIME_BUNDLE, type Displayable } from '../../kernel/contract/mime';
import { REPO_ROOT } from '../helpers/env';

export const DEMO_NOTEBOOK = path.join(REPO_ROOT, 'notebooks', 'demo-outputs.ipynb');

// Each cell: the source a user runs, and the same computation done here for the saved output.
const gridSource = `// Six 8×8 grey test patterns in a 2×3 grid (values in [0, 1])
const patterns = Array.from({ length: 6 }, (_, i) =>
  Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => ((i * 37 + y * 11 + x * 5) % 256) / 255)));
pertset.display.imageGrid(patterns, {
  columns: 3, title: 'test patterns', rowLabels: ['clean', 'perturbed'],
  columnLabels: ['a', 'b', 'c'], captions: ['0', '1', '2', '3', '4', '5'],
})`;
function gridOutput(): Displayable {
  const patterns = Array.from({ length: 6 }, (_, i) =>
    Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => ((i * 37 + y * 11 + x * 5) % 256) / 255)));
  return imageGrid(patterns, {
    columns: 3, title: 'test patterns', rowLabels: ['clean', 'perturbed'],
    columnLabels: ['a', 'b', 'c'], captions: ['0', '1', '2', '3', '4', '5'],
  });
}

const traversalSource = `// A synthetic traversal (values in [0, 1]): brightness moves with the radius along "z1", contrast along "z2"
const radii = [-2, -1, 0, 1, 2];
const frame = (f: (y: number, x: number) => number) =>
  Array.from({ length: 16 }, (_, y) => Array.from({ length: 16 }, (_, x) => Math.max(0, Math.min(255, Math.round(f(y, x)))) / 255));
const base = (y: number, x: number) => 64 + 8 * ((x + y) % 16);
pertset.display.latentTraversal({
  title: 'latent traversal', epsilon: 1.5, radii,
  clean: [frame(base)],
  directions: [
    { name: 'z1', frames: radii.map((r) => frame((y, x) => base(y, x) + 30 * r)) },
    { name: 'z2', frames: radii.map((r) => frame((y, x) => 128 + (base(y, x) - 128) * (1 + 0.4 * r))) },
  ],
})`;
function traversalOutput(): Displayable {
  const radii = [-2, -1, 0, 1, 2];
  const frame = (f: (y: number, x: number) => number): number[][] =>
    Array.from({ length: 16 }, (_, y) => Array.from({ length: 16 }, (_, x) => Math.max(0, Math.min(255, Math.round(f(y, x)))) / 255));
  const base = (y: number, x: number): number => 64 + 8 * ((x + y) % 16);
  return latentTraversal({
    title: 'latent traversal', epsilon: 1.5, radii,
    clean: [frame(base)],
    directions: [
      { name: 'z1', frames: radii.map((r) => frame((y, x) => base(y, x) + 30 * r)) },
      { name: 'z2', frames: radii.map((r) => frame((y, x) => 128 + (base(y, x) - 128) * (1 + 0.4 * r))) },
    ],
  });
}

const chartSource = `pertset.display.chart({
  data: [
    { type: 'scatter', mode: 'lines+markers', name: 'loss', x: [1, 2, 3, 4, 5], y: [1.2, 0.8, 0.6, 0.5, 0.45] },
    { type: 'bar', name: 'accuracy', x: [1, 2, 3, 4, 5], y: [0.3, 0.5, 0.7, 0.8, 0.85] },
  ],
  layout: { title: { text: 'training' }, height: 360, xaxis: { title: { text: 'epoch' } } },
})`;
function chartOutput(): Displayable {
  return chart({
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'loss', x: [1, 2, 3, 4, 5], y: [1.2, 0.8, 0.6, 0.5, 0.45] },
      { type: 'bar', name: 'accuracy', x: [1, 2, 3, 4, 5], y: [0.3, 0.5, 0.7, 0.8, 0.85] },
    ],
    layout: { title: { text: 'training' }, height: 360, xaxis: { title: { text: 'epoch' } } },
  });
}

/** nbformat wants multi-line strings as arrays of lines (each keeping its "\n"). */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

function codeCell(source: string, count: number, value: Displayable): Record<string, unknown> {
  const bundle = value[MIME_BUNDLE]();
  const data = Object.fromEntries(Object.entries(bundle.data).map(([mime, v]) => [mime, typeof v === 'string' ? lines(v) : v]));
  return {
    cell_type: 'code',
    execution_count: count,
    metadata: {},
    outputs: [{ output_type: 'execute_result', execution_count: count, data, metadata: bundle.metadata ?? {} }],
    source: lines(source),
  };
}

export function buildDemoNotebook(): Record<string, unknown> {
  return {
    cells: [
      {
        cell_type: 'markdown',
        metadata: {},
        source: lines('# pertset renderers: saved outputs\n\nThis notebook opens with its outputs already drawn by the pertset renderers: an image grid, a latent traversal (drag the slider) and a plotly chart. Run it on the **Perturbation Sets (TypeScript)** kernel to regenerate them.'),
      },
      codeCell(gridSource, 1, gridOutput()),
      codeCell(traversalSource, 2, traversalOutput()),
      codeCell(chartSource, 3, chartOutput()),
    ],
    metadata: {
      kernelspec: { name: 'pertset', display_name: 'Perturbation Sets (TypeScript)', language: 'typescript' },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

if (require.main === module && process.argv.includes('--write')) {
  fs.mkdirSync(path.dirname(DEMO_NOTEBOOK), { recursive: true });
  fs.writeFileSync(DEMO_NOTEBOOK, JSON.stringify(buildDemoNotebook(), null, 1) + '\n');
  console.log(`wrote ${DEMO_NOTEBOOK}`);
}
