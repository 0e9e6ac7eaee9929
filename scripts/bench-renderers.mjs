#!/usr/bin/env node
// Renderer benchmark in Debian's Chromium (headless, software rendering): first paint of a
// 64-image grid, latent-traversal frame time while scrubbing, plotly first render (cold = incl.
// loading the lazy plotly chunk, warm = later charts), and a 1,000-image grid.
// Needs the bundles: npm run build:renderers. Usage: node scripts/bench-renderers.mjs [--runs N]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 15;
const chromiumPath = process.env.PERTSET_CHROMIUM ?? '/usr/bin/chromium';
if (!fs.existsSync(path.join(root, 'extension/out/renderers/image-grid.js'))) {
  console.error('bench-renderers: run `npm run build:renderers` first');
  process.exit(1);
}

const server = http.createServer((req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const b64 = (n, f) => Buffer.from(Array.from({ length: n }, (_, i) => f(i) & 255)).toString('base64');
const grid = (count, columns) => ({ version: 1, height: 28, width: 28, channels: 1, count, columns, pixels: b64(count * 784, (i) => i * 7), captions: Array.from({ length: count }, (_, i) => `#${i}`) });
const steps = 64;
const radii = Array.from({ length: steps }, (_, i) => -3 + (6 * i) / (steps - 1));
const traversal = {
  version: 1, height: 32, width: 32, channels: 3, clean: b64(32 * 32 * 3, (i) => i), epsilon: 1.5, radii,
  directions: ['z1', 'z2'].map((name, d) => ({ name, frames: b64(steps * 32 * 32 * 3, (i) => i * (d + 3) + Math.floor(i / 3072) * 9) })),
};
const figure = (k) => ({
  data: [{ type: 'scatter', mode: 'lines', name: 'loss', x: [...Array(200).keys()], y: [...Array(200).keys()].map((i) => Math.exp(-i / 50) + k * 0.01) },
    { type: 'bar', name: 'acc', x: [1, 2, 3], y: [0.5, 0.7, 0.9] }],
  layout: { title: { text: `chart ${k}` }, height: 360 },
});

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
await page.goto(`${base}/test/renderers/harness.html`);
await page.waitForFunction(() => window.__ready === true);

/** Time from the render call until the next frame was produced (two rAFs: layout + paint). */
const timeRender = (renderer, id, mime, value) => page.evaluate(async ([r, i, m, v]) => {
  const t0 = performance.now();
  await window.__render(r, i, m, v);
  await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  const ms = performance.now() - t0;
  document.getElementById(i).remove();
  return ms;
}, [renderer, id, mime, value]);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0], n: s.length };
};
const fmt = (x) => `${x.toFixed(1)} ms`;
const results = {};

// Grid: the first render includes importing the renderer module.
const gridMs = [];
for (let k = 0; k <= RUNS; k++) gridMs.push(await timeRender('image-grid', `g${k}`, 'application/vnd.pertset.image-grid+json', grid(64, 8)));
results.grid64FirstPaintCold = gridMs[0];
results.grid64FirstPaint = stats(gridMs.slice(1));
const big = [];
for (let k = 0; k < Math.max(3, Math.floor(RUNS / 3)); k++) big.push(await timeRender('image-grid', `big${k}`, 'application/vnd.pertset.image-grid+json', grid(1000, 40)));
results.grid1000FirstPaint = stats(big);
// Zooming the 1,000-image grid: input event → next frame painted.
await page.evaluate(([v]) => window.__render('image-grid', 'zoom1000', 'application/vnd.pertset.image-grid+json', v), [grid(1000, 40)]);
results.grid1000Zoom = stats(await page.evaluate(async (runs) => {
  const zoom = document.getElementById('zoom1000').shadowRoot.querySelector('input[type=range]');
  const times = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    zoom.value = String(1 + (k % 4));
    zoom.dispatchEvent(new Event('input'));
    await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
    times.push(performance.now() - t0);
  }
  document.getElementById('zoom1000').remove();
  return times;
}, RUNS));

// Traversal: scrub the slider through every radius; per step, the time from the input event to
// the frame being drawn (the renderer coalesces input to one draw per display frame).
await page.evaluate(([v]) => window.__render('latent-traversal', 'trav', 'application/vnd.pertset.latent-traversal+json', v), [traversal]);
results.traversalFrame = stats(await page.evaluate(async ([n, runs]) => {
  const root = document.getElementById('trav').shadowRoot;
  const slider = root.querySelector('input[type=range]');
  const frame = root.querySelector('canvas[data-role=frame]');
  const times = [];
  for (let pass = 0; pass < Math.max(1, Math.floor(runs / 5)); pass++) {
    for (let i = 0; i < n; i++) {
      const target = String((i + 1 + pass) % n);
      const t0 = performance.now();
      slider.value = target;
      slider.dispatchEvent(new Event('input'));
      while (frame.dataset.index !== target) await new Promise((r) => requestAnimationFrame(r));
      times.push(performance.now() - t0);
    }
  }
  return times;
}, [steps, RUNS]));
results.displayFrameInterval = await page.evaluate(async () => {
  const t = [];
  let last = await new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 30; i++) { const now = await new Promise((r) => requestAnimationFrame(r)); t.push(now - last); last = now; }
  t.sort((a, b) => a - b);
  return t[15];
});

// Plotly: cold includes fetching and evaluating the 4.6 MB lazy chunk.
const plotMs = [];
for (let k = 0; k <= Math.max(3, Math.floor(RUNS / 2)); k++) {
  const t = await timeRender('plotly', `p${k}`, 'application/vnd.plotly.v1+json', figure(k));
  plotMs.push(t);
}
results.plotlyFirstRenderCold = plotMs[0];
results.plotlyFirstRender = stats(plotMs.slice(1));

await browser.close();
server.close();

console.log(`Renderer benchmark (headless Chromium ${chromiumPath}, software rendering; noisy on a shared machine)`);
console.log(`  64-image grid (28×28 grey), first paint: cold ${fmt(results.grid64FirstPaintCold)}, then median ${fmt(results.grid64FirstPaint.median)}, p90 ${fmt(results.grid64FirstPaint.p90)} (n=${results.grid64FirstPaint.n})`);
console.log(`  1,000-image grid (28×28 grey), first paint: median ${fmt(results.grid1000FirstPaint.median)} (n=${results.grid1000FirstPaint.n})`);
console.log(`  1,000-image grid, zoom change → painted: median ${fmt(results.grid1000Zoom.median)}, p90 ${fmt(results.grid1000Zoom.p90)} (n=${results.grid1000Zoom.n})`);
console.log(`  traversal (32×32 RGB, ${steps} radii), input → frame drawn: median ${fmt(results.traversalFrame.median)}, p90 ${fmt(results.traversalFrame.p90)} (n=${results.traversalFrame.n}); display frame interval ${fmt(results.displayFrameInterval)}`);
console.log(`  plotly (200-point line + bars), first render: cold ${fmt(results.plotlyFirstRenderCold)} (incl. lazy chunk), then median ${fmt(results.plotlyFirstRender.median)} (n=${results.plotlyFirstRender.n})`);
console.log(JSON.stringify({ bench: 'renderers', ...results }));
