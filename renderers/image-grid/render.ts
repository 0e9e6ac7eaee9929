/**
 * Image grid: one small native-resolution canvas per image, scaled by CSS with nearest-neighbour
 * (crisp at any zoom; zooming restyles one CSS variable instead of redrawing), row/column labels
 * and captions as text, and a hover read-out of index, label and pixel value.
 */
import type { ImageGridPayload } from '../../kernel/contract/payloads';
import type { Cleanup, RenderArgs } from '../shared/renderer-host';
import { h } from '../shared/safe-dom';
import { decodeBase64, defaultScale, imageDataAt, pixelCanvas, pixelText, pointerPixel } from '../shared/pixels';

export interface ImageGridState {
  zoom: number;
}

const MAX_ZOOM = 16;

export function renderImageGrid({ payload: p, root, state }: RenderArgs<ImageGridPayload, ImageGridState>): Cleanup {
  const bytes = decodeBase64(p.pixels);
  const shape = { height: p.height, width: p.width, channels: p.channels };
  const columns = Math.min(p.columns, p.count);
  const rows = Math.ceil(p.count / columns);
  const initial = state.get()?.zoom ?? p.scale ?? defaultScale(p.height, p.width);
  let zoom = clampZoom(initial);

  const widget = h('div', { className: 'pertset-widget pertset-image-grid' });
  if (p.title) widget.appendChild(h('div', { className: 'pertset-title', text: p.title }));

  const zoomInput = h('input', {
    attrs: { type: 'range', min: '1', max: String(MAX_ZOOM), step: '1', value: String(Math.round(zoom)), 'aria-label': 'zoom' },
  });
  const zoomValue = h('span', { className: 'pertset-zoom-value', text: zoomText(zoom) });
  const kind = p.channels === 1 ? 'grey' : 'RGB';
  widget.appendChild(
    h('div', { className: 'pertset-toolbar' }, [
      h('label', {}, [h('span', { text: 'Zoom' }), zoomInput, zoomValue]),
      h('span', { className: 'pertset-muted', text: `${p.count} image${p.count === 1 ? '' : 's'}, ${p.height}×${p.width} ${kind}` }),
    ]),
  );

  const hasRowLabels = p.rowLabels !== undefined;
  const grid = h('div', { className: 'pertset-grid' });
  grid.style.gridTemplateColumns = `${hasRowLabels ? 'auto ' : ''}repeat(${columns}, max-content)`;
  // One pair of variables sizes every cell, so zooming 1,000 images is one style change.
  const applyZoom = (): void => {
    grid.style.setProperty('--pertset-cell-w', `${p.width * zoom}px`);
    grid.style.setProperty('--pertset-cell-h', `${p.height * zoom}px`);
  };
  applyZoom();

  if (p.columnLabels) {
    if (hasRowLabels) grid.appendChild(h('div'));
    p.columnLabels.forEach((label) => grid.appendChild(h('div', { className: 'pertset-collabel', text: label, title: label })));
  }
  for (let r = 0; r < rows; r++) {
    if (hasRowLabels) {
      const label = p.rowLabels![r];
      grid.appendChild(h('div', { className: 'pertset-rowlabel', text: label, title: label }));
    }
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      if (i >= p.count) break;
      const canvas = pixelCanvas(imageDataAt(bytes, i, shape));
      canvas.dataset.index = String(i);
      const caption = p.captions?.[i];
      grid.appendChild(
        h('figure', { className: 'pertset-cell' }, [
          canvas,
          caption !== undefined ? h('figcaption', { className: 'pertset-caption', text: caption, title: caption }) : null,
        ]),
      );
    }
  }
  widget.appendChild(grid);
  const readout = h('div', { className: 'pertset-readout pertset-muted', text: 'Hover an image for its pixel values.', attrs: { 'aria-live': 'polite' } });
  widget.appendChild(readout);
  root.appendChild(widget);

  const setZoom = (z: number): void => {
    zoom = clampZoom(z);
    zoomValue.textContent = zoomText(zoom);
    applyZoom();
    state.set({ zoom });
  };
  const onZoom = (): void => setZoom(Number(zoomInput.value));

  // Pointer moves are coalesced to one read-out update per frame.
  // (The target is read during dispatch: afterwards the DOM clears it for shadow-tree events.)
  let pending: { canvas: HTMLCanvasElement; clientX: number; clientY: number } | undefined;
  let frame = 0;
  const onMove = (ev: PointerEvent): void => {
    if (!(ev.target instanceof HTMLCanvasElement)) return;
    pending = { canvas: ev.target, clientX: ev.clientX, clientY: ev.clientY };
    if (!frame) frame = requestAnimationFrame(updateReadout);
  };
  const updateReadout = (): void => {
    frame = 0;
    if (!pending) return;
    const { canvas } = pending;
    const index = Number(canvas.dataset.index);
    const px = pointerPixel(canvas, pending);
    if (Number.isNaN(index) || !px) return;
    const r = Math.floor(index / columns);
    const c = index % columns;
    const parts = [`#${index}`];
    if (p.captions) parts.push(`“${p.captions[index]}”`);
    if (p.rowLabels) parts.push(`row ${p.rowLabels[r]}`);
    if (p.columnLabels) parts.push(`column ${p.columnLabels[c]}`);
    parts.push(`(x ${px.x}, y ${px.y}) = ${pixelText(bytes, index, px.x, px.y, shape)}`);
    readout.textContent = parts.join(' · ');
  };

  zoomInput.addEventListener('input', onZoom);
  grid.addEventListener('pointermove', onMove);
  return () => {
    zoomInput.removeEventListener('input', onZoom);
    grid.removeEventListener('pointermove', onMove);
    if (frame) cancelAnimationFrame(frame);
  };
}

function clampZoom(z: number): number {
  return Math.min(MAX_ZOOM, Math.max(1, Number.isFinite(z) ? z : 1));
}

function zoomText(z: number): string {
  return `×${Number.isInteger(z) ? z : z.toFixed(2)}`;
}
