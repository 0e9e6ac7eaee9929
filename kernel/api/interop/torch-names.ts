/**
 * How our variable names and layouts correspond to PyTorch state_dict entries.
 *
 * A variable name is the reference model's state_dict key with `/` for `.` and TensorFlow leaf
 * names: `weight` → `kernel` (Linear, Conv2d) or `gamma` (BatchNorm2d), `bias` → `bias`
 * (`beta` for BatchNorm2d), `running_mean` → `moving_mean`, `running_var` → `moving_variance`.
 * E.g. `generator.stns.0.localization.1.weight` ↔ `generator/stns/0/localization/1/kernel`,
 * `prior.block.bn1.running_var` ↔ `prior/block/bn1/moving_variance`. BatchNorm's
 * `num_batches_tracked` has no counterpart (only used by momentum=None, which no model uses).
 *
 * Layouts: a rank-2 `kernel` is [in, out] (PyTorch [out, in], transposed); a rank-4 `kernel` is
 * HWIO (PyTorch OIHW); every other tensor is identical.
 */
import { ArgumentError } from '../errors';
import type { TorchTensor } from './torch-format';

const LEAF_TO_TORCH: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** BatchNorm2d's step counter: present in PyTorch state_dicts, absent from ours. */
export const IGNORED_TORCH_LEAVES = ['num_batches_tracked'];

/** The PyTorch state_dict key of one of our variable names. */
export function torchKeyOf(variableName: string): string {
  const parts = variableName.split('/');
  const leaf = parts.pop() as string;
  const torchLeaf = LEAF_TO_TORCH[leaf];
  if (!torchLeaf) throw new ArgumentError(`variable "${variableName}": unknown parameter kind "${leaf}"`);
  return [...parts, torchLeaf].join('.');
}

/** Our tensor in PyTorch's layout (a copy). `shape` is our variable's shape. */
export function toTorchLayout(variableName: string, shape: number[], data: Float32Array): TorchTensor {
  const leaf = variableName.slice(variableName.lastIndexOf('/') + 1);
  if (leaf === 'kernel' && shape.length === 2) {
    const [inF, outF] = shape;
    return { shape: [outF, inF], data: transpose2d(data, inF, outF) };
  }
  if (leaf === 'kernel' && shape.length === 4) {
    const [kh, kw, ci, co] = shape;
    return { shape: [co, ci, kh, kw], data: permute4d(data, [kh, kw, ci, co], [3, 2, 0, 1]) };
  }
  return { shape: [...shape], data: Float32Array.from(data) };
}

/** A PyTorch tensor in our layout for a variable of shape `shape`; null when the shapes do not correspond. */
export function fromTorchLayout(variableName: string, shape: number[], t: TorchTensor): Float32Array | null {
  const leaf = variableName.slice(variableName.lastIndexOf('/') + 1);
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  if (leaf === 'kernel' && shape.length === 2) {
    const [inF, outF] = shape;
    return same(t.shape, [outF, inF]) ? transpose2d(t.data, outF, inF) : null;
  }
  if (leaf === 'kernel' && shape.length === 4) {
    const [kh, kw, ci, co] = shape;
    return same(t.shape, [co, ci, kh, kw]) ? permute4d(t.data, [co, ci, kh, kw], [2, 3, 1, 0]) : null;
  }
  return same(t.shape, shape) ? Float32Array.from(t.data) : null;
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** Row-major permutation: output axis i is input axis perm[i]. */
export function permute4d(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const s = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) out[o++] = data[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
  return out;
}
