/**
 * The bundled renderers in Debian's Chromium (playwright-core), through a harness page that stubs
 * VS Code's RendererContext: real canvas pixels, the traversal slider and its persisted state,
 * plotly layout, both themes, malformed and hostile payloads. Screenshots go to
 * test-artifacts/renderers/.
 */
import { after, before, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { histogram } from '../../kernel/api/display';
import { MIME } from '../../kernel/contract/mime';
import { DEFAULT_CHART_HEIGHT } from '../../kernel/contract/payloads';
import { artifactDir, CHROMIUM, DEPENDENCIES, describeNeeding } from '../helpers/env';
import { CHROMIUM_ARGS, requireRendererBundles, serveStatic, StaticServer, watchErrors } from './browser';
import { chromium } from 'playwright-core';
import { greyPixel, gridPayload, HOSTILE, HOSTILE_SCRIPT, plotlyFigure, rgbPixel, traversalPayload, traversalValue } from './fixtures';

const shots = artifactDir('renderers');

type Renderer = 'image-grid' | 'latent-traversal' | 'plotly';

describeNeeding(DEPENDENCIES.chromium, 'notebook renderers in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    requireRendererBundles();
    server = await serveStatic();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    await page.goto(`${server.url}/test/renderers/harness.html`);
    await page.waitForFunction(() => (window as any).__ready === true);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const render = (renderer: Renderer, id: string, mime: string, value: unknown, raw?: string): Promise<void> =>
    page.evaluate(([r, i, m, v, t]) => (window as any).__render(r, i, m, v, t ?? undefined), [renderer, id, mime, value, raw ?? null] as const);
  const setTheme = (theme: 'light' | 'dark'): Promise<void> => page.evaluate((th) => (window as any).__setTheme(th), theme);
  const canvasPixel = (id: string, index: number, x: number, y: number): Promise<number[]> =>
    page.evaluate(([i, k, px, py]) => {
      const canvas = document.getElementById(i as string)!.shadowRoot!.querySelectorAll('canvas')[k as number] as HTMLCanvasElement;
      return Array.from(canvas.getContext('2d')!.getImageData(px as number, py as number, 1, 1).data);
    }, [id, index, x, y] as const);
  const shot = (id: string, name: string): Promise<Buffer> => page.locator(`#${id}`).screenshot({ path: path.join(shots, `${name}.png`) });

  it('draws a grey grid with exact pixels, labels, captions and a hover read-out', async () => {
    const payload = gridPayload({
      title: 'digits', rowLabels: ['clean', 'perturbed'], columnLabels: ['a', 'b', 'c'],
      captions: ['0', '1', '2', '3', '4', '5'], scale: 8,
    });
    await render('image-grid', 'grid-grey', MIME.imageGrid, payload);
    assert.equal(await page.locator('#grid-grey canvas').count(), 6);
    for (const [i, x, y] of [[0, 0, 0], [4, 1, 2], [5, 3, 3]]) {
      const v = greyPixel(i, y, x, 0);
      assert.deepEqual(await canvasPixel('grid-grey', i, x, y), [v, v, v, 255], `image ${i} pixel (${x}, ${y})`);
    }
    assert.deepEqual(await page.locator('#grid-grey .pertset-rowlabel').allTextContents(), ['clean', 'perturbed']);
    assert.deepEqual(await page.locator('#grid-grey .pertset-collabel').allTextContents(), ['a', 'b', 'c']);
    assert.deepEqual(await page.locator('#grid-grey figcaption').allTextContents(), ['0', '1', '2', '3', '4', '5']);

    // Hover image 4 at image pixel (1, 2): 8 screen px per image px, so aim at the pixel's centre.
    const box = (await page.locator('#grid-grey canvas').nth(4).boundingBox())!;
    await page.mouse.move(box.x + 1 * 8 + 4, box.y + 2 * 8 + 4);
    await page.waitForFunction(() => document.getElementById('grid-grey')!.shadowRoot!.querySelector('.pertset-readout')!.textContent!.includes('#4'));
    const readout = await page.locator('#grid-grey .pertset-readout').textContent();
    assert.match(readout!, /#4 · “4” · row perturbed · column b · \(x 1, y 2\) = (\d+)/);
    assert.equal(Number(readout!.match(/= (\d+)$/)![1]), greyPixel(4, 2, 1, 0));

    // Crisp nearest-neighbour scaling: each 8×8 screen block of the screenshot is one image pixel
    // (sampled away from block edges, so a sub-pixel element offset cannot matter).
    const canvasBox = (await page.locator('#grid-grey canvas').nth(0).boundingBox())!;
    const clip = { x: Math.round(canvasBox.x), y: Math.round(canvasBox.y), width: 32, height: 32 };
    const png = PNG.sync.read(await page.screenshot({ clip, path: path.join(shots, 'grid-canvas-x8.png') }));
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        const want = greyPixel(0, y, x, 0);
        for (const [dy, dx] of [[2, 2], [5, 5], [2, 5], [5, 2]]) {
          const at = ((y * 8 + dy) * png.width + (x * 8 + dx)) * 4;
          assert.ok(Math.abs(png.data[at] - want) <= 1, `screen block (${x}, ${y}) sample (${dx}, ${dy}): ${png.data[at]} != ${want}`);
        }
      }
    await shot('grid-grey', 'grid-grey-light');
  });

  it('zooms a grid with the zoom control, persists the zoom and re-renders idempotently', async () => {
    await render('image-grid', 'grid-rgb', MIME.imageGrid, gridPayload({ channels: 3, count: 4, columns: 2 }));
    assert.deepEqual(await canvasPixel('grid-rgb', 3, 2, 1), [rgbPixel(3, 1, 2, 0), rgbPixel(3, 1, 2, 1), rgbPixel(3, 1, 2, 2), 255]);
    await page.locator('#grid-rgb input[type=range]').fill('5');
    assert.equal((await page.locator('#grid-rgb canvas').first().boundingBox())!.width, 20);
    assert.equal(await page.locator('#grid-rgb .pertset-zoom-value').textContent(), '×5');
    const state = await page.evaluate(() => (window as any).__getState());
    assert.deepEqual(state.outputs['grid-rgb'], { zoom: 5 });
    // Rendering the same output again replaces it and restores the zoom.
    await render('image-grid', 'grid-rgb', MIME.imageGrid, gridPayload({ channels: 3, count: 4, columns: 2 }));
    assert.equal(await page.locator('#grid-rgb canvas').count(), 4);
    assert.equal(await page.locator('#grid-rgb .pertset-image-grid').count(), 1);
    assert.equal((await page.locator('#grid-rgb canvas').first().boundingBox())!.width, 20);
    await shot('grid-rgb', 'grid-rgb-zoom5');
  });

  it('renders 1,000 images and still answers hover read-outs', async () => {
    await render('image-grid', 'grid-1000', MIME.imageGrid, gridPayload({ height: 28, width: 28, count: 1000, columns: 40, scale: 1 }));
    assert.equal(await page.locator('#grid-1000 canvas').count(), 1000);
    const v = greyPixel(999, 27, 27, 0);
    assert.deepEqual(await canvasPixel('grid-1000', 999, 27, 27), [v, v, v, 255]);
    const last = page.locator('#grid-1000 canvas').nth(999);
    await last.scrollIntoViewIfNeeded();
    const box = (await last.boundingBox())!;
    await page.mouse.move(box.x + 27.5, box.y + 27.5);
    await page.waitForFunction(() => document.getElementById('grid-1000')!.shadowRoot!.querySelector('.pertset-readout')!.textContent!.startsWith('#999'));
    await page.evaluate(() => document.getElementById('grid-1000')!.remove());
  });

  it('scrubs a latent traversal: the slider changes the frame, marks ε and its position persists', async () => {
    const payload = traversalPayload({ grid: true });
    await render('latent-traversal', 'trav', MIME.latentTraversal, payload);
    const frame = (): Promise<number[]> => canvasPixel('trav', 1, 3, 3);
    // Initially the frame at radius 0 (index 3) of the first direction.
    assert.equal((await frame())[0], traversalValue(0, 3));
    assert.deepEqual(await canvasPixel('trav', 0, 0, 0), [128, 128, 128, 255]);
    assert.equal(await page.locator('#trav .pertset-eps-mark').count(), 2);

    await page.locator('#trav input[type=range]').fill('6');
    await page.waitForFunction(() => document.getElementById('trav')!.shadowRoot!.querySelector('canvas[data-role=frame]')!.getAttribute('data-index') === '6');
    assert.equal((await frame())[0], traversalValue(0, 6));
    assert.match((await page.locator('#trav .pertset-readout').textContent())!, /r = 2 · outside the ε = 1.5 set/);
    assert.equal(await page.locator('#trav figure.pertset-outside').count(), 1);
    await page.locator('#trav select').selectOption('1');
    assert.equal((await frame())[0], traversalValue(1, 6));
    assert.deepEqual((await page.evaluate(() => (window as any).__getState())).outputs.trav, { index: 6, direction: 1 });
    await shot('trav', 'traversal-light');

    // A re-render (scrolling, webview reload) restores slider and direction.
    await render('latent-traversal', 'trav', MIME.latentTraversal, payload);
    assert.equal(await page.locator('#trav input[type=range]').inputValue(), '6');
    assert.equal(await page.locator('#trav select').inputValue(), '1');
    assert.equal((await frame())[0], traversalValue(1, 6));

    // The 2-D grid view: radii² frames in one atlas canvas.
    await page.locator('#trav select').selectOption('-1');
    const grid = page.locator('#trav canvas[data-role=grid]');
    assert.ok(await grid.isVisible());
    assert.deepEqual(await grid.evaluate((c: HTMLCanvasElement) => [c.width, c.height]), [9 * 7 - 1, 9 * 7 - 1]);
    // Frame (row 2, column 3) of the grid payload is uniform (k * 7) % 256 with k = 2 * 7 + 3.
    const v = await grid.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(3 * 9 + 4, 2 * 9 + 4, 1, 1).data));
    assert.deepEqual(v, [(17 * 7) % 256, (17 * 7) % 256, (17 * 7) % 256, 255]);
    assert.equal(await page.locator('#trav input[type=range]').isVisible(), false);
    await shot('trav', 'traversal-grid-light');
  });

  it('renders plotly in light DOM with title and legend inside the plot, and purges on dispose', async () => {
    await render('plotly', 'plot', MIME.plotly, plotlyFigure('training'));
    await page.waitForSelector('#plot .main-svg');
    assert.equal(await page.evaluate(() => document.getElementById('plot')!.shadowRoot), null);
    assert.equal(await page.locator('#plot .gtitle').textContent(), 'training');
    assert.equal(await page.locator('#plot .legend .traces').count(), 2);
    assert.ok((await page.locator('#plot .scatterlayer .trace').count()) >= 1);
    assert.ok((await page.locator('#plot .barlayer .trace').count()) >= 1);
    const container = (await page.locator('#plot .svg-container').boundingBox())!;
    for (const sel of ['.gtitle', '.legend']) {
      const b = (await page.locator(`#plot ${sel}`).boundingBox())!;
      assert.ok(
        b.x >= container.x && b.y >= container.y && b.x + b.width <= container.x + container.width && b.y + b.height <= container.y + container.height,
        `${sel} ${JSON.stringify(b)} lies outside the plot ${JSON.stringify(container)}`,
      );
    }
    assert.equal(await page.locator('.modebar-container').first().evaluate((e) => getComputedStyle(e).position), 'absolute');
    await shot('plot', 'plotly-light');
    await page.evaluate(() => (window as any).__dispose('plotly', 'plot'));
    assert.equal(await page.locator('#plot .main-svg').count(), 0);
  });

  it('gives a figure without a height the default height, and keeps a given one', async () => {
    // The notebook's histogram as the kernel makes it: density bars, a KDE line, percentile markers.
    const values = Array.from({ length: 300 }, (_, i) => 5 + 4 * Math.sin(i * 2.4) * Math.cos(i * 0.7));
    const figure = histogram(values, { kde: true, percentiles: [25, 50, 75, 100], title: 'latent norms', xLabel: 'norm' }).figure;
    const { height: _given, ...withoutHeight } = figure.layout!;
    await render('plotly', 'plot-default', MIME.plotly, { ...figure, layout: withoutHeight });
    await page.waitForSelector('#plot-default .nsewdrag');
    assert.equal(Number(await page.locator('#plot-default .main-svg').first().getAttribute('height')), DEFAULT_CHART_HEIGHT);
    const plotArea = (await page.locator('#plot-default .nsewdrag').boundingBox())!;
    assert.ok(plotArea.height >= 200, `plot area ${plotArea.height} px tall`);
    assert.equal(await page.locator('#plot-default .annotation-text').count(), 4, 'the four percentile labels');
    assert.equal(await page.locator('#plot-default .g-ytitle').textContent(), 'probability density');
    await shot('plot-default', 'plotly-histogram');
    await render('plotly', 'plot-given', MIME.plotly, { ...figure, layout: { ...withoutHeight, height: 300 } });
    await page.waitForSelector('#plot-given .main-svg');
    assert.equal(Number(await page.locator('#plot-given .main-svg').first().getAttribute('height')), 300);
  });

  it('follows the dark theme through the VS Code CSS variables', async () => {
    await setTheme('dark');
    try {
      await render('image-grid', 'grid-dark', MIME.imageGrid, gridPayload({ title: 'dark grid', scale: 6 }));
      await render('latent-traversal', 'trav-dark', MIME.latentTraversal, traversalPayload());
      await render('plotly', 'plot-dark', MIME.plotly, plotlyFigure('dark chart'));
      await page.waitForSelector('#plot-dark .main-svg');
      assert.equal(await page.locator('#grid-dark .pertset-title').evaluate((e) => getComputedStyle(e).color), 'rgb(204, 204, 204)');
      assert.equal(await page.locator('#plot-dark .gtitle').evaluate((e) => getComputedStyle(e).fill), 'rgb(204, 204, 204)');
      assert.equal(await page.locator('#plot-dark .main-svg').first().evaluate((e) => getComputedStyle(e).backgroundColor), 'rgba(0, 0, 0, 0)');
      for (const id of ['grid-dark', 'trav-dark', 'plot-dark']) await shot(id, `${id}`);
    } finally {
      await setTheme('light');
    }
    // A chart drawn in the dark theme follows the switch back to light without re-rendering.
    await page.waitForFunction(() => getComputedStyle(document.querySelector('#plot-dark .gtitle')!).fill === 'rgb(31, 31, 31)');
    await render('plotly', 'plot-light', MIME.plotly, plotlyFigure('light chart'));
    await page.waitForSelector('#plot-light .main-svg');
    assert.equal(await page.locator('#plot-light .gtitle').evaluate((e) => getComputedStyle(e).fill), 'rgb(31, 31, 31)');
  });

  it('shows a readable error box for malformed payloads', async () => {
    const cases: Array<[Renderer, string, unknown, string | undefined, RegExp]> = [
      ['image-grid', MIME.imageGrid, { ...gridPayload(), count: 7 }, undefined, /Cannot render image grid: invalid image-grid payload: "pixels" holds 96 bytes, expected .* = 112/],
      ['image-grid', MIME.imageGrid, null, '{"version": 1, "height": ', /Cannot render image grid: the .* output is not valid JSON/],
      ['latent-traversal', MIME.latentTraversal, { ...traversalPayload(), epsilon: -1 }, undefined, /"epsilon" must be a positive number/],
      ['plotly', MIME.plotly, { data: 'nope' }, undefined, /Cannot render plotly chart: .*"data" must be an array/],
    ];
    for (const [k, [renderer, mime, value, raw, want]] of cases.entries()) {
      const id = `bad-${k}`;
      await render(renderer, id, mime, value, raw);
      const alert = page.locator(`#${id} [role=alert]`);
      assert.equal(await alert.count(), 1, `case ${k}`);
      assert.match((await alert.textContent())!, want);
      if (k === 0) await shot(id, 'error-box');
    }
  });

  it('shows hostile strings as text and never runs script from a payload', async () => {
    await render('image-grid', 'hostile-grid', MIME.imageGrid, gridPayload({
      count: 2, columns: 2, title: HOSTILE, captions: [HOSTILE, HOSTILE_SCRIPT], rowLabels: [HOSTILE], columnLabels: [HOSTILE, HOSTILE_SCRIPT],
    }));
    await render('latent-traversal', 'hostile-trav', MIME.latentTraversal, { ...traversalPayload({ directions: [HOSTILE, HOSTILE_SCRIPT] }), title: HOSTILE_SCRIPT });
    await render('plotly', 'hostile-plot', MIME.plotly, {
      data: [{ type: 'scatter', name: HOSTILE, x: [1, 2], y: [3, 4] }],
      layout: { title: { text: HOSTILE + HOSTILE_SCRIPT } },
    });
    await render('image-grid', 'hostile-error', MIME.imageGrid, { version: HOSTILE });
    await page.waitForSelector('#hostile-plot .main-svg');
    await page.waitForTimeout(100); // an onerror handler would fire within a tick of the failed load
    assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
    for (const id of ['hostile-grid', 'hostile-trav', 'hostile-error']) {
      assert.equal(await page.locator(`#${id} img, #${id} script`).count(), 0, `${id} contains an element from the payload`);
    }
    assert.equal(await page.locator('#hostile-plot img, #hostile-plot script').count(), 0);
    assert.equal(await page.locator('#hostile-grid .pertset-title').textContent(), HOSTILE);
    assert.deepEqual(await page.locator('#hostile-grid figcaption').allTextContents(), [HOSTILE, HOSTILE_SCRIPT]);
    assert.deepEqual(await page.locator('#hostile-trav option').allTextContents(), [HOSTILE, HOSTILE_SCRIPT]);
    assert.match((await page.locator('#hostile-error [role=alert]').textContent())!, /unsupported "version" "<img src=x onerror=/);
    await shot('hostile-grid', 'hostile-grid');
  });

  it('logged no page errors, console errors or failed requests', () => {
    assert.deepEqual(errors, []);
  });
});
