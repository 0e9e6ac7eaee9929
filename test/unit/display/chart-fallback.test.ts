/** The SVG `text/html` fallback of charts draws bar and histogram traces, not only lines. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { chart } from '../../../kernel/api/display';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';

function fallback(c: ReturnType<typeof chart>): string {
  return c[MIME_BUNDLE]().data[MIME.html] as string;
}

function rectHeights(svg: string): number[] {
  return [...svg.matchAll(/<rect [^>]*height="([0-9.]+)"/g)].map((m) => Number(m[1]));
}

test('a histogram trace is binned into 20 bars whose heights follow the counts', () => {
  const values = [...Array(30).fill(1), ...Array(10).fill(5), 9];
  const svg = fallback(chart({ data: [{ type: 'histogram', x: values, name: 'norms' }], layout: { title: 'latent norms' } }));
  const h = rectHeights(svg);
  assert.equal(h.length, 20);
  assert.ok(h[0] > 0 && h[19] > 0, 'first and last bins hold the extremes');
  assert.ok(Math.abs(h[0] / h[19] - 30) < 0.5, `heights proportional to counts 30:1, got ${h[0]}:${h[19]}`);
  assert.equal(h.filter((v) => v > 0).length, 3, 'three occupied bins');
  assert.match(svg, /<title>norms<\/title>/);
  assert.doesNotMatch(svg, /<polyline/);
});

test('bar traces draw one bar per value, side by side for two series; lines stay polylines', () => {
  const svg = fallback(chart({
    data: [
      { type: 'bar', y: [0.3, 0.2, 0.1], name: 'PGD AE' },
      { type: 'bar', y: [0.4, 0.3, 0.2], name: 'encoder AE' },
      { type: 'scatter', mode: 'lines', y: [0.1, 0.2, 0.3], name: 'trend' },
    ],
  }));
  const rects = [...svg.matchAll(/<rect x="([0-9.-]+)"/g)].map((m) => Number(m[1]));
  assert.equal(rects.length, 6);
  assert.ok(rects[3] > rects[0], 'the second series sits beside the first in each slot');
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  const heights = rectHeights(svg);
  assert.ok(heights[3] > heights[0], 'a larger value is a taller bar');
});

test('hostile trace names are escaped in the fallback', () => {
  const svg = fallback(chart({ data: [{ type: 'bar', y: [1], name: '<img src=x onerror=alert(1)>' }] }));
  assert.doesNotMatch(svg, /<img/);
  assert.match(svg, /&lt;img src=x onerror=alert\(1\)&gt;/);
});
