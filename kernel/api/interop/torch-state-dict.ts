/**
 * Moving weights between a CVAE and PyTorch state_dict tensors (see torch-names.ts for the
 * correspondence and torch-format.ts for the files).
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../errors';
import type { ArchitectureName, CVAE, ModelSize } from '../models/types';
import { fromTorchLayout, IGNORED_TORCH_LEAVES, permute4d, toTorchLayout, torchKeyOf } from './torch-names';
import type { TorchTensor, TorchTensors } from './torch-format';

/** Every variable of `model` as PyTorch state_dict tensors, in construction order. */
export function modelToTorchTensors(model: CVAE): TorchTensors {
  const out: TorchTensors = new Map();
  for (const [name, v] of model.variables) {
    out.set(torchKeyOf(name), toTorchLayout(name, v.shape, v.dataSync() as Float32Array));
  }
  return out;
}

/**
 * Assigns PyTorch tensors to every variable of `model`. Strict: a missing key, a shape that does
 * not correspond, or an unexpected key (other than `num_batches_tracked`) is an error naming
 * the keys; nothing is assigned unless everything matches. `source` names the origin in messages.
 */
export function loadTorchTensors(model: CVAE, tensors: TorchTensors, source: string): void {
  const values = new Map<tf.Variable, Float32Array>();
  const missing: string[] = [];
  for (const [name, v] of model.variables) {
    const key = torchKeyOf(name);
    const t = tensors.get(key);
    if (!t) {
      missing.push(key);
      continue;
    }
    const data = fromTorchLayout(name, v.shape, t);
    if (!data) {
      throw new CheckpointError(`${source}: "${key}" has shape [${t.shape}], ${model.architecture} expects ${describeExpected(name, v.shape)}`);
    }
    values.set(v, data);
  }
  const known = new Set([...model.variables.keys()].map(torchKeyOf));
  const unexpected = [...tensors.keys()].filter((k) => !known.has(k) && !IGNORED_TORCH_LEAVES.includes(k.slice(k.lastIndexOf('.') + 1)));
  if (missing.length || unexpected.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} key(s): ${listSome(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} key(s): ${listSome(unexpected)}`);
    throw new CheckpointError(`${source}: not a ${model.architecture} state_dict (${parts.join('; ')})`);
  }
  tf.tidy(() => {
    for (const [v, data] of values) v.assign(tf.tensor(data, v.shape, 'float32'));
  });
}

/** Which architecture a state_dict belongs to, from its generator's keys; null if none fits. */
export function inferArchitecture(keys: Iterable<string>): ArchitectureName | null {
  const set = new Set(keys);
  if (set.has('generator.decoder.0.weight')) return 'cifar10_rectangle';
  if (set.has('generator.stns.0.fc.weight')) return 'mnist_stn';
  if (set.has('generator.downsample3.weight')) return 'mnist_conv';
  if (set.has('generator.fc3.weight')) return 'mnist_fc';
  return null;
}

/**
 * The size options of a `cifar10_rectangle` state_dict, read from its shapes: latent = rows of
 * `prior.fc1.weight`, wide/narrow channels and kernel from `prior.encoder.0` and the first block's
 * `conv1`, blocks = how many `prior.encoder.<i>.conv1` there are. `source` names the origin in messages.
 */
export function inferModelSize(tensors: TorchTensors, source: string): ModelSize {
  const need = (key: string, rank: number): number[] => {
    const t = tensors.get(key);
    if (!t) throw new CheckpointError(`${source}: not a cifar10_rectangle state_dict (missing "${key}")`);
    if (t.shape.length !== rank) throw new CheckpointError(`${source}: "${key}" has shape [${t.shape}], expected rank ${rank}`);
    return t.shape;
  };
  const [latentDim] = need('prior.fc1.weight', 2);
  const [bigChannels, , kernelSize] = need('prior.encoder.0.weight', 4);
  let blocks = 0;
  while (tensors.has(`prior.encoder.${blocks + 1}.conv1.weight`)) blocks++;
  const smallChannels = blocks > 0 ? need('prior.encoder.1.conv1.weight', 4)[0] : need(`prior.encoder.${blocks + 3}.weight`, 4)[0];
  if (kernelSize % 2 !== 1) throw new CheckpointError(`${source}: "prior.encoder.0.weight" has an even kernel ${kernelSize}; cifar10_rectangle keeps 32×32 with an odd kernel`);
  return { latentDim, blocks, bigChannels, smallChannels, kernelSize, padding: (kernelSize - 1) / 2 };
}

/**
 * Latent codes in PyTorch's layout: [batch, 128, 7, 7] for `mnist_conv` (ours is flattened
 * NHWC), unchanged [batch, latentDim] otherwise.
 */
export function latentToTorch(model: CVAE, z: Float32Array, batch: number): TorchTensor {
  if (model.architecture === 'mnist_conv') {
    return { shape: [batch, 128, 7, 7], data: permute4d(z, [batch, 7, 7, 128], [0, 3, 1, 2]) };
  }
  return { shape: [batch, model.latentDim], data: Float32Array.from(z) };
}

/** The inverse of `latentToTorch`: a flattened latent in our layout. */
export function latentFromTorch(model: CVAE, t: TorchTensor): Float32Array {
  if (model.architecture === 'mnist_conv') {
    const [b, c, h, w] = t.shape;
    return permute4d(t.data, [b, c, h, w], [0, 2, 3, 1]);
  }
  return Float32Array.from(t.data);
}

function describeExpected(name: string, shape: number[]): string {
  try {
    return `[${toTorchLayout(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1))).shape}]`;
  } catch {
    return `[${shape}]`;
  }
}

function listSome(keys: string[]): string {
  return keys.slice(0, 6).join(', ') + (keys.length > 6 ? ', ...' : '');
}
