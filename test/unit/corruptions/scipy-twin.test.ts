/**
 * The filters under the corruptions against the SciPy calls of the reference generators, on a real
 * CIFAR-10 image: `gaussian_filter` (modes nearest and reflect, truncate 4 and 3), `zoom` (order 1),
 * `map_coordinates` (order 1, mode reflect, coordinates inside and outside the image), and the
 * deterministic CIFAR-10-C corruptions written as Hendrycks' code writes them (gaussian_blur,
 * zoom_blur with `clipped_zoom`, contrast). Agreement to float32 precision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'path';
import { corrupt } from '../../../kernel/api/corruptions';
import { bilinear, gaussianFilter, image, scipyZoom } from '../../../kernel/api/corruptions/filters';
import { readCifarBinary } from '../../../kernel/api/data/cifar-binary';
import { createRng } from '../../../kernel/api/random';
import { DEPENDENCIES, need, PYTHON, sharedDataDir } from '../../helpers/env';

const TWIN = String.raw`
import json, sys
import numpy as np
from scipy.ndimage import gaussian_filter, zoom as scizoom, map_coordinates
req = json.load(sys.stdin)
x = np.array(req['x'], dtype=np.float64).reshape(32, 32, 3)
out = {}
for s in (0.4, 1.0, 2.5):
    out[f'nearest{s:g}'] = gaussian_filter(x, sigma=(s, s, 0), mode='nearest', truncate=4.0).ravel().tolist()
    out[f'reflect{s:g}'] = gaussian_filter(x[..., 0], sigma=s, mode='reflect', truncate=3.0).ravel().tolist()
for z in (1.05, 1.25, 1.75):
    out[f'zoom{z:g}'] = scizoom(x, (z, z, 1), order=1).ravel().tolist()
ys, xs = np.array(req['ys']), np.array(req['xs'])
out['map'] = map_coordinates(x[..., 1], [ys, xs], order=1, mode='reflect').tolist()
def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]
for sev, zmax in enumerate((1.06, 1.11, 1.16, 1.21, 1.26), start=1):
    zooms = np.arange(1, zmax, 0.01)
    acc = np.zeros_like(x)
    for z in zooms:
        acc += clipped_zoom(x, z)
    out[f'zoom_blur{sev}'] = np.clip((x + acc) / (len(zooms) + 1), 0, 1).ravel().tolist()
for sev, s in enumerate((0.4, 0.6, 0.7, 0.8, 1.0), start=1):
    out[f'gaussian_blur{sev}'] = np.clip(gaussian_filter(x, sigma=(s, s, 0), mode='nearest'), 0, 1).ravel().tolist()
for sev, c in enumerate((0.75, 0.5, 0.4, 0.3, 0.15), start=1):
    means = np.mean(x, axis=(0, 1), keepdims=True)
    out[f'contrast{sev}'] = np.clip((x - means) * c + means, 0, 1).ravel().tolist()
json.dump(out, sys.stdout)
`;

function close(ours: ArrayLike<number>, theirs: number[], what: string, tol = 2e-6): void {
  assert.equal(ours.length, theirs.length, `${what}: ${ours.length} values vs SciPy's ${theirs.length}`);
  let worst = 0;
  for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  assert.ok(worst <= tol, `${what}: largest difference from SciPy ${worst}`);
}

test('corruption filters and deterministic corruptions equal the SciPy calls of the reference generators', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.scipy)) return;
  const r = readCifarBinary(path.join(sharedDataDir(), 'cifar10', 'test_batch_first1000.bin.gz'));
  const x = Float32Array.from(r.images.subarray(7 * 3072, 8 * 3072), (v) => v / 255);
  const rng = createRng(3);
  const ys = Array.from({ length: 400 }, () => rng.uniformRange(-6, 38));
  const xs = Array.from({ length: 400 }, () => rng.uniformRange(-6, 38));
  const run = spawnSync(PYTHON, ['-c', TWIN], { input: JSON.stringify({ x: Array.from(x), ys, xs }), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const ref = JSON.parse(run.stdout) as Record<string, number[]>;
  const img = image(32, 32, 3, x);
  for (const s of [0.4, 1.0, 2.5]) {
    close(gaussianFilter(img, s, 'nearest', 4).data, ref[`nearest${s}`], `gaussian_filter σ ${s} nearest`);
    const red = image(32, 32, 1, Float32Array.from({ length: 1024 }, (_, p) => x[p * 3]));
    close(gaussianFilter(red, s, 'reflect', 3).data, ref[`reflect${s}`], `gaussian_filter σ ${s} reflect truncate 3`);
  }
  for (const z of [1.05, 1.25, 1.75]) close(scipyZoom(img, z).data, ref[`zoom${z}`], `zoom ×${z}`);
  close(ys.map((y, i) => bilinear(img, y, xs[i], 1, 'reflect')), ref.map, 'map_coordinates order 1 reflect');
  for (let sev = 1; sev <= 5; sev++) {
    for (const name of ['zoom_blur', 'gaussian_blur', 'contrast']) close(corrupt(x, [32, 32, 3], name, sev), ref[`${name}${sev}`], `${name} severity ${sev}`);
  }
});
