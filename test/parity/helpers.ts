/**
 * Shared by the PyTorch parity tests: running the twin (torch_twin.py) with Debian's Python,
 * converting tensors to PyTorch layouts, and the relative-agreement check.
 */
import { spawnSync } from 'child_process';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { PYTHON, REPO_ROOT } from '../helpers/env';
import { permute4d } from '../../kernel/api/interop/torch-names';
import type { TorchTensor } from '../../kernel/api/interop';

export const TWIN = path.join(REPO_ROOT, 'test', 'parity', 'torch_twin.py');

export function runTwin(args: string[]): void {
  const r = spawnSync(PYTHON, [TWIN, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`torch_twin.py ${args[0]} failed (${r.status}): ${r.stderr || r.stdout}`);
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(label: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `pertset-parity-${label}-`));
  tempDirs.push(d);
  return d;
}

/** NHWC tfjs tensor → NCHW PyTorch tensor. */
export function toNCHW(t: tf.Tensor4D): TorchTensor {
  const [b, h, w, c] = t.shape;
  return { shape: [b, c, h, w], data: permute4d(t.dataSync() as Float32Array, [b, h, w, c], [0, 3, 1, 2]) };
}

/** NCHW PyTorch values → NHWC, flattened. */
export function fromNCHW(t: TorchTensor): Float32Array {
  const [b, c, h, w] = t.shape;
  return permute4d(t.data, [b, c, h, w], [0, 2, 3, 1]);
}

/**
 * Every element agrees within `rel` relative to max(|theirs_i|, rms(theirs)) (a pure elementwise
 * relative test is meaningless for values that cross zero). Returns the worst ratio seen.
 */
export function assertClose(what: string, ours: ArrayLike<number>, theirs: ArrayLike<number>, rel: number): number {
  assert.equal(ours.length, theirs.length, `${what}: ${ours.length} values vs ${theirs.length} from PyTorch`);
  let sumSq = 0;
  for (let i = 0; i < theirs.length; i++) sumSq += theirs[i] * theirs[i];
  const rms = Math.sqrt(sumSq / Math.max(1, theirs.length));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < theirs.length; i++) {
    const scale = Math.max(Math.abs(theirs[i]), rms, 1e-12);
    const r = Math.abs(ours[i] - theirs[i]) / scale;
    if (!(r <= worst)) {
      worst = r;
      worstAt = i;
    }
  }
  assert.ok(worst <= rel, `${what}: worst relative difference ${worst.toExponential(2)} > ${rel} at [${worstAt}] (ours ${ours[worstAt]}, PyTorch ${theirs[worstAt]})`);
  return worst;
}
