/**
 * Latent traversal: the clean input beside the generated frame at the slider's radius. Frames
 * are decoded once; slider input is coalesced to one canvas update per display frame. The ε
 * boundary is marked on the slider, frames outside it are outlined, and the slider position and
 * direction persist across re-renders.
 */
import type { LatentTraversalPayload } from '../../kernel/contract/payloads';
import type { Cleanup, RenderArgs } from '../shared/renderer-host';
import { h } from '../shared/safe-dom';
import { decodeBase64, defaultScale, imageDataAt, pixelCanvas, pixelText, pointerPixel } from '../shared/pixels';
import { epsilonMarks, GRID_VIEW, initialTraversalState, TraversalState } from './state';

const GAP = 1;

export function renderLatentTraversal({ payload: p, root, state }: RenderArgs<LatentTraversalPayload, TraversalState>): Cleanup {
  const shape = { height: p.height, width: p.width, channels: p.channels };
  const n = p.radii.length;
  const scale = defaultScale(p.height, p.width) * 2;
  const current = initialTraversalState(state.get(), p.radii, p.directions.length, p.grid !== undefined, p.initialIndex);

  // Frames of a direction are decoded on first use and kept.
  const decoded = new Map<number, ImageData[]>();
  const framesOf = (d: number): ImageData[] => {
    let frames = decoded.get(d);
    if (!frames) {
      const bytes = decodeBase64(p.directions[d].frames);
      frames = Array.from({ length: n }, (_, i) => imageDataAt(bytes, i, shape));
      decoded.set(d, frames);
    }
    return frames;
  };

  const widget = h('div', { className: 'pertset-widget pertset-latent-traversal' });
  if (p.title) widget.appendChild(h('div', { className: 'pertset-title', text: p.title }));

  const select = h('select', { attrs: { 'aria-label': 'direction' } });
  p.directions.forEach((d, i) => select.appendChild(h('option', { text: d.name, attrs: { value: String(i) } })));
  if (p.grid) {
    select.appendChild(h('option', { text: `2-D grid: ${p.grid.directions[0]} × ${p.grid.directions[1]}`, attrs: { value: String(GRID_VIEW) } }));
  }
  select.value = String(current.direction);
  widget.appendChild(
    h('div', { className: 'pertset-toolbar' }, [
      h('label', {}, [h('span', { text: 'Direction' }), select]),
      h('span', { className: 'pertset-muted', text: `ε = ${fmt(p.epsilon)}` }),
    ]),
  );

  // Single-direction view: clean input, frame, slider.
  const cleanCanvas = pixelCanvas(imageDataAt(decodeBase64(p.clean), 0, shape), scale);
  const frameCanvas = pixelCanvas(framesOf(current.direction === GRID_VIEW ? 0 : current.direction)[current.index], scale);
  frameCanvas.dataset.role = 'frame';
  const frameCaption = h('figcaption');
  const frameFigure = h('figure', { className: 'pertset-frame' }, [frameCanvas, frameCaption]);
  const slider = h('input', {
    attrs: { type: 'range', min: '0', max: String(n - 1), step: '1', value: String(current.index), 'aria-label': 'radius' },
  });
  const sliderBox = h('div', { className: 'pertset-slider' }, [slider]);
  for (const f of epsilonMarks(p.radii, p.epsilon)) {
    const mark = h('div', { className: 'pertset-eps-mark', title: 'ε boundary' });
    // The thumb travels inside the track, 8 px from each end.
    mark.style.left = `calc(8px + (100% - 16px) * ${f})`;
    sliderBox.appendChild(mark);
  }
  sliderBox.appendChild(
    h('div', { className: 'pertset-slider-ends pertset-muted' }, [h('span', { text: `r = ${fmt(p.radii[0])}` }), h('span', { text: `r = ${fmt(p.radii[n - 1])}` })]),
  );
  const singleView = h('div', {}, [
    h('div', { className: 'pertset-views' }, [h('figure', {}, [cleanCanvas, h('figcaption', { text: 'clean input' })]), frameFigure]),
    sliderBox,
  ]);
  widget.appendChild(singleView);

  // Optional 2-D view: all radii² frames as one atlas canvas.
  let gridView: HTMLElement | undefined;
  let gridCanvas: HTMLCanvasElement | undefined;
  let gridBytes: Uint8Array | undefined;
  const buildGridView = (): HTMLElement => {
    const g = p.grid!;
    gridBytes = decodeBase64(g.frames);
    // One transparent pixel between frames keeps them apart at any zoom.
    const stepX = p.width + GAP;
    const stepY = p.height + GAP;
    const atlas = new ImageData(stepX * n - GAP, stepY * n - GAP);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const img = imageDataAt(gridBytes, r * n + c, shape);
        for (let y = 0; y < p.height; y++) {
          atlas.data.set(img.data.subarray(y * p.width * 4, (y + 1) * p.width * 4), ((r * stepY + y) * atlas.width + c * stepX) * 4);
        }
      }
    }
    gridCanvas = pixelCanvas(atlas, Math.max(1, Math.floor(scale / 2)));
    gridCanvas.dataset.role = 'grid';
    return h('div', { className: 'pertset-grid-view' }, [
      h('div', { className: 'pertset-axis pertset-muted', text: `→ ${g.directions[1]} (r = ${fmt(p.radii[0])} … ${fmt(p.radii[n - 1])})` }),
      h('div', { className: 'pertset-views' }, [
        h('div', { className: 'pertset-axis pertset-muted', text: `↓ ${g.directions[0]}` }),
        gridCanvas,
      ]),
    ]);
  };

  const readout = h('div', { className: 'pertset-readout pertset-muted', attrs: { 'aria-live': 'polite' } });
  widget.appendChild(readout);
  root.appendChild(widget);

  const drawFrame = (): void => {
    const r = p.radii[current.index];
    const outside = Math.abs(r) > p.epsilon * (1 + 1e-9);
    frameCanvas.getContext('2d')!.putImageData(framesOf(current.direction)[current.index], 0, 0);
    frameCanvas.dataset.index = String(current.index);
    frameFigure.classList.toggle('pertset-outside', outside);
    const where = outside ? 'outside' : 'inside';
    frameCaption.textContent = `${p.directions[current.direction].name}, r = ${fmt(r)}`;
    readout.textContent = `frame ${current.index + 1}/${n} · r = ${fmt(r)} · ${where} the ε = ${fmt(p.epsilon)} set`;
  };

  const showView = (): void => {
    const grid = current.direction === GRID_VIEW;
    if (grid && !gridView) {
      gridView = buildGridView();
      widget.insertBefore(gridView, readout);
    }
    singleView.hidden = grid;
    if (gridView) gridView.hidden = !grid;
    if (grid) readout.textContent = 'Hover the grid for the radii of a frame.';
    else drawFrame();
  };

  let frame = 0;
  const scheduleDraw = (): void => {
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      drawFrame();
      state.set({ ...current });
    });
  };
  const onSlide = (): void => {
    current.index = Number(slider.value);
    scheduleDraw();
  };
  const onSelect = (): void => {
    current.direction = Number(select.value);
    state.set({ ...current });
    showView();
  };
  const onGridMove = (ev: PointerEvent): void => {
    if (!gridCanvas || !gridBytes || ev.target !== gridCanvas) return;
    const px = pointerPixel(gridCanvas, ev);
    if (!px) return;
    const r = Math.floor(px.y / (p.height + GAP));
    const c = Math.floor(px.x / (p.width + GAP));
    const x = px.x % (p.width + GAP);
    const y = px.y % (p.height + GAP);
    if (x >= p.width || y >= p.height) return; // on a gap between frames
    const value = pixelText(gridBytes, r * n + c, x, y, shape);
    readout.textContent = `${p.grid!.directions[0]} r = ${fmt(p.radii[r])} · ${p.grid!.directions[1]} r = ${fmt(p.radii[c])} · pixel ${value}`;
  };

  showView();
  slider.addEventListener('input', onSlide);
  select.addEventListener('change', onSelect);
  widget.addEventListener('pointermove', onGridMove);
  return () => {
    slider.removeEventListener('input', onSlide);
    select.removeEventListener('change', onSelect);
    widget.removeEventListener('pointermove', onGridMove);
    if (frame) cancelAnimationFrame(frame);
  };
}

/** Three significant digits, no trailing zeros: 1.5, 0.333, -2. */
function fmt(x: number): string {
  return String(Number(x.toPrecision(3)));
}
