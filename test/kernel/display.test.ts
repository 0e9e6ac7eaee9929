import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import {
  display,
  imageGrid,
  latentTraversal,
  lineChart,
  liveTraining,
  metricsTable,
  setDisplaySink,
  toMimeBundle,
  resultBundle,
  MIME,
  MIME_BUNDLE,
  type MimeBundle,
} from '../../kernel/api/display';
import { ArgumentError } from '../../kernel/api/errors';
import { PayloadError, validateImageGridPayload, validateLatentTraversalPayload, validatePlotlyFigure } from '../../kernel/contract/payloads';
import type { TrainProgress } from '../../kernel/api/train/events';

function pngsIn(html: string): PNG[] {
  return [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => PNG.sync.read(Buffer.from(m[1], 'base64')));
}

interface Shown {
  bundle: MimeBundle;
  displayId: string | undefined;
  update: boolean;
}

function captureSink(): Shown[] {
  const shown: Shown[] = [];
  setDisplaySink({ display: (bundle, displayId, update) => shown.push({ bundle, displayId, update }), clear: () => undefined });
  return shown;
}

test('imageGrid from a tfjs tensor: valid payload, exact bytes, PNG fallbacks with the same pixels', () => {
  const images = tf.tensor4d([0, 0.5, 1, 0.25, 1, 1, 0, 0], [2, 2, 2, 1]);
  const grid = imageGrid(images, { columns: 2, captions: ['<x>', 'y'], title: 'T & U' });
  const bundle = toMimeBundle(grid);
  const payload = validateImageGridPayload(bundle.data[MIME.imageGrid]);
  assert.deepEqual([payload.count, payload.height, payload.width, payload.channels, payload.columns], [2, 2, 2, 1, 2]);
  assert.deepEqual([...Buffer.from(payload.pixels, 'base64')], [0, 128, 255, 64, 255, 255, 0, 0]);
  const html = bundle.data[MIME.html] as string;
  assert.ok(html.includes('&lt;x&gt;') && html.includes('T &amp; U') && !html.includes('<x>'));
  const pngs = pngsIn(html);
  assert.equal(pngs.length, 2);
  assert.deepEqual([pngs[0].width, pngs[0].height], [2, 2]);
  // Grey PNGs decode to RGBA with r = g = b = the grey byte.
  assert.deepEqual([0, 1, 2, 3].map((p) => pngs[0].data[4 * p]), [0, 128, 255, 64]);
  assert.match(bundle.data[MIME.plain] as string, /^T & U: ImageGrid 2 images of 2x2x1 in 1x2$/);
  images.dispose();
});

test('imageGrid accepts nested arrays and lists of colour images, and names bad input', () => {
  const rgb = [[[1, 0, 0]], [[0, 0, 1]]]; // one 2x1 RGB image
  const grid = imageGrid([rgb, rgb, rgb], { columns: 2, rowLabels: ['r0', 'r1'] });
  assert.equal(grid.payload.channels, 3);
  assert.equal(grid.payload.count, 3);
  const png = pngsIn(toMimeBundle(grid).data[MIME.html] as string)[0];
  assert.deepEqual([...png.data.subarray(0, 8)], [255, 0, 0, 255, 0, 0, 255, 255]);
  assert.throws(() => imageGrid({ data: new Float32Array(8), shape: [2, 2, 1, 2] }), (e: Error) => e instanceof ArgumentError && /1 or 3 channels, got 2/.test(e.message));
  assert.throws(() => imageGrid([[[0]]], { captions: ['a', 'b'] }), (e: Error) => e instanceof ArgumentError && /"captions" has 2 entries, expected 1/.test(e.message));
  assert.throws(() => imageGrid({ data: new Float32Array(3), shape: [1, 2, 2] }), /data has 3 values but shape \[1, 2, 2\] needs 4/);
});

test('latentTraversal builds a valid payload from frames and checks frame sizes', () => {
  const t = latentTraversal({
    clean: [[0, 1], [1, 0]],
    epsilon: 2,
    radii: [-1, 0, 1],
    directions: [{ name: 'z0', frames: [[[0, 0], [0, 0]], [[0.5, 0.5], [0.5, 0.5]], [[1, 1], [1, 1]]] }],
    initialIndex: 1,
  });
  const bundle = toMimeBundle(t);
  const payload = validateLatentTraversalPayload(bundle.data[MIME.latentTraversal]);
  assert.deepEqual([...Buffer.from(payload.directions[0].frames, 'base64')], [0, 0, 0, 0, 128, 128, 128, 128, 255, 255, 255, 255]);
  assert.deepEqual([...Buffer.from(payload.clean, 'base64')], [0, 255, 255, 0]);
  assert.equal(pngsIn(bundle.data[MIME.html] as string).length, 4);
  assert.throws(
    () => latentTraversal({ clean: [[0, 1], [1, 0]], epsilon: 1, radii: [0], directions: [{ name: 'z', frames: [[[0, 0, 0]]] }] }),
    /directions\[0\] frames are 1x3x1, the clean image is 2x2x1/,
  );
  assert.throws(
    () => latentTraversal({ clean: [[0]], epsilon: 1, radii: [0, 1], directions: [{ name: 'z', frames: [[[0]]] }] }),
    (e: Error) => e instanceof ArgumentError && /directions\[0\]\.frames" holds 1 bytes/.test(e.message),
  );
});

test('lineChart is a valid plotly figure with an SVG fallback', () => {
  const c = lineChart({ loss: [3, 2, 1], kl: [0.5, 0.4, 0.2] }, { x: [10, 20, 30], title: 'losses', logY: true });
  const bundle = toMimeBundle(c);
  const fig = validatePlotlyFigure(bundle.data[MIME.plotly]);
  assert.deepEqual(fig.data.map((d) => d.name), ['loss', 'kl']);
  assert.deepEqual(fig.data[0].x, [10, 20, 30]);
  assert.equal((fig.layout?.yaxis as { type: string }).type, 'log');
  const svg = bundle.data[MIME.html] as string;
  assert.equal(svg.match(/<polyline/g)?.length, 2);
  assert.equal(bundle.data[MIME.plain], 'losses: Chart (loss: 3 points, last 1; kl: 3 points, last 0.2)');
  assert.throws(() => lineChart({ loss: [1, 2] }, { x: [1] }), /series "loss" has 2 values but "x" has 1/);
});

test('metricsTable aligns plain text and escapes HTML', () => {
  const t = metricsTable([{ model: '<fc>', recon: 0.123456 }, { model: 'conv', recon: 12 }], { title: 'recon' });
  const bundle = toMimeBundle(t);
  // Text columns align left, numbers right.
  assert.equal(bundle.data[MIME.plain], ['recon', 'model   recon', '-----  ------', '<fc>   0.1235', 'conv       12'].join('\n'));
  assert.ok((bundle.data[MIME.html] as string).includes('&lt;fc&gt;'));
});

test('display() sends a bundle and its handle updates the same output in place', () => {
  const shown = captureSink();
  try {
    const h = display(metricsTable([{ a: 1 }]));
    h.update('done');
    assert.equal(shown.length, 2);
    assert.equal(shown[0].update, false);
    assert.equal(shown[1].update, true);
    assert.equal(shown[0].displayId, h.displayId);
    assert.equal(shown[1].displayId, h.displayId);
    assert.equal(shown[1].bundle.data[MIME.plain], 'done');
    assert.equal(resultBundle(h), undefined, 'a display handle is not a cell result');
    assert.equal(resultBundle('s')?.data[MIME.plain], "'s'");
  } finally {
    setDisplaySink(undefined);
  }
});

test('display() without a kernel prints the text/plain form', () => {
  const lines: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  try {
    display(lineChart({ loss: [1] }));
  } finally {
    console.log = original;
  }
  assert.deepEqual(lines, ['Chart (loss: 1 points, last 1)']);
});

test('bundles are validated before they are emitted', () => {
  const noPlain = { [MIME_BUNDLE]: () => ({ data: { [MIME.html]: '<b>x</b>' } }) };
  assert.throws(() => toMimeBundle(noPlain), /lacks a "text\/plain" fallback/);
  const badGrid = { [MIME_BUNDLE]: () => ({ data: { [MIME.imageGrid]: { version: 1, height: 2, width: 2, channels: 1, count: 1, columns: 1, pixels: 'AAAA' }, [MIME.plain]: 'g' } }) };
  assert.throws(() => toMimeBundle(badGrid), (e: Error) => e instanceof PayloadError && /"pixels" holds 3 bytes, expected .* = 4/.test(e.message));
});

function progress(i: number): TrainProgress {
  return { epoch: 0, epochs: 2, step: i, stepsPerEpoch: 100, globalStep: i + 1, loss: 100 - i, kl: 1, recon: 99 - i, lr: 1e-3, beta: 1, stepsPerSecond: 50, elapsed: i / 50 };
}

test('liveTraining throttles updates and always ends on the latest state', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const shown = captureSink();
  try {
    const live = liveTraining({ intervalMs: 250 });
    for (let i = 0; i < 50; i++) live.onBatchEnd(progress(i)); // all within one instant
    assert.equal(live.updates, 1, 'only the first event is shown at once');
    t.mock.timers.tick(250); // the trailing update fires once
    assert.equal(live.updates, 2);
    for (let i = 50; i < 60; i++) {
      t.mock.timers.tick(100);
      live.onBatchEnd(progress(i));
    }
    assert.ok(live.updates <= 2 + 4, `at most one update per 250 ms, got ${live.updates}`);
    live.finish();
    const progressOutputs = shown.filter((s) => typeof s.bundle.data[MIME.html] === 'string' && (s.bundle.data[MIME.html] as string).includes('<progress'));
    const charts = shown.filter((s) => MIME.plotly in s.bundle.data);
    assert.equal(progressOutputs.filter((s) => !s.update).length, 1, 'one progress output, then updates');
    assert.equal(charts.filter((s) => !s.update).length, 1, 'one chart output, then updates');
    assert.match(progressOutputs.at(-1)!.bundle.data[MIME.plain] as string, /step 60\/100 \(global 60\) loss 41 /);
    const fig = validatePlotlyFigure(charts.at(-1)!.bundle.data[MIME.plotly]);
    assert.equal((fig.data[0].y as number[]).length, 60);
    assert.equal(new Set(progressOutputs.map((s) => s.displayId)).size, 1);
  } finally {
    setDisplaySink(undefined);
  }
});

test('liveTraining thins long curves to at most maxPoints', () => {
  const shown = captureSink();
  try {
    const live = liveTraining({ intervalMs: 0, maxPoints: 10 });
    for (let i = 0; i < 35; i++) live.onBatchEnd(progress(i));
    live.finish();
    const fig = validatePlotlyFigure(shown.filter((s) => MIME.plotly in s.bundle.data).at(-1)!.bundle.data[MIME.plotly]);
    const x = fig.data[0].x as number[];
    assert.ok(x.length <= 10, `${x.length} points`);
    assert.equal(x.at(-1), 35, 'the latest step is kept');
  } finally {
    setDisplaySink(undefined);
  }
});
