/**
 * Turns the image inputs the display helpers accept (tfjs tensors, typed arrays with a shape,
 * nested arrays, arrays of single images) into packed uint8 HWC bytes, the layout of our payloads.
 * Float inputs are read as [0, 1] (the models' output range) and clamped; integer inputs
 * (int32 tensors, Uint8Array) as [0, 255].
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';

/** One image `[h, w]` / `[h, w, c]`. */
export type SingleImage = tf.Tensor | { data: ArrayLike<number>; shape: number[] } | number[][] | number[][][];

/** A batch of images `[n, h, w]` / `[n, h, w, c]` (c = 1 or 3), or a list of single images `[h, w]` / `[h, w, c]`. */
export type ImageBatch =
  | tf.Tensor
  | { data: ArrayLike<number>; shape: number[] }
  | number[][][]
  | number[][][][]
  | SingleImage[];

export interface PackedImages {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** count*height*width*channels bytes, HWC, one image after another. */
  bytes: Uint8Array;
}

interface Flat {
  values: ArrayLike<number>;
  shape: number[];
  /** True when values are 0..255 integers rather than [0, 1] floats. */
  byteRange: boolean;
}

function isTensorLike(x: unknown): x is tf.Tensor {
  return typeof x === 'object' && x !== null && Array.isArray((x as tf.Tensor).shape) && typeof (x as tf.Tensor).dataSync === 'function';
}

function isShaped(x: unknown): x is { data: ArrayLike<number>; shape: number[] } {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Array.isArray((x as { shape?: unknown }).shape) && typeof (x as { data?: { length?: unknown } }).data?.length === 'number';
}

function nestedShape(x: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(what: string, x: unknown): Flat {
  if (isTensorLike(x)) {
    return { values: x.dataSync(), shape: x.shape.slice(), byteRange: x.dtype === 'int32' };
  }
  if (isShaped(x)) {
    const expected = x.shape.reduce((a, b) => a * b, 1);
    if (x.data.length !== expected) throw new ArgumentError(`${what}: data has ${x.data.length} values but shape [${x.shape.join(', ')}] needs ${expected}`);
    return { values: x.data, shape: x.shape.slice(), byteRange: x.data instanceof Uint8Array || x.data instanceof Uint8ClampedArray };
  }
  if (Array.isArray(x)) {
    const shape = nestedShape(x);
    const flat = (x as unknown[]).flat(Infinity) as unknown[];
    const expected = shape.reduce((a, b) => a * b, 1);
    if (flat.length !== expected || !flat.every((v) => typeof v === 'number')) {
      throw new ArgumentError(`${what}: nested arrays must be rectangular arrays of numbers (shape [${shape.join(', ')}])`);
    }
    return { values: flat as number[], shape, byteRange: false };
  }
  throw new ArgumentError(`${what}: expected a tensor, {data, shape} or nested number arrays, got ${typeof x}`);
}

function toByte(v: number, byteRange: boolean): number {
  const scaled = byteRange ? v : v * 255;
  if (!(scaled > 0)) return 0; // also maps NaN to black
  return scaled >= 255 ? 255 : Math.round(scaled);
}

function channelsOf(what: string, c: number): 1 | 3 {
  if (c !== 1 && c !== 3) throw new ArgumentError(`${what}: images must have 1 or 3 channels, got ${c}`);
  return c;
}

/** Packs a batch `[n,h,w]` / `[n,h,w,c]`. */
function packBatch(what: string, f: Flat): PackedImages {
  const [count, height, width, c = 1] = f.shape;
  if (f.shape.length < 3 || f.shape.length > 4 || !(count > 0 && height > 0 && width > 0)) {
    throw new ArgumentError(`${what}: expected a batch shaped [n, h, w] or [n, h, w, c], got [${f.shape.join(', ')}]`);
  }
  const channels = channelsOf(what, c);
  const bytes = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < bytes.length; i++) bytes[i] = toByte(f.values[i], f.byteRange);
  return { count, height, width, channels, bytes };
}

/** Packs any accepted image input; `what` names the argument in error messages. */
export function packImages(what: string, images: ImageBatch): PackedImages {
  const isList = Array.isArray(images) && images.length > 0 && (isTensorLike(images[0]) || isShaped(images[0]) || nestedShape(images[0]).length === 2);
  if (!isList) return packBatch(what, flatten(what, images));
  // A list of single images: each [h, w] or [h, w, c], all the same size.
  const singles = (images as unknown[]).map((im, i) => flatten(`${what}[${i}]`, im));
  const batch = singles.findIndex((s) => s.shape.length === 4);
  if (batch >= 0) {
    throw new ArgumentError(`${what}[${batch}]: shape [${singles[batch].shape.join(', ')}] is a batch, but a list must hold single images; ` +
      'to show several batches as grid rows use imageGrid({ rows: [a, b, ...] })');
  }
  const [height, width, c = 1] = singles[0].shape;
  const channels = channelsOf(what, c);
  const size = height * width * channels;
  const bytes = new Uint8Array(singles.length * size);
  singles.forEach((s, i) => {
    const [h, w, ci = 1] = s.shape;
    if (s.shape.length < 2 || s.shape.length > 3 || h !== height || w !== width || ci !== c) {
      throw new ArgumentError(`${what}[${i}]: shape [${s.shape.join(', ')}] differs from the first image's [${singles[0].shape.join(', ')}]`);
    }
    for (let k = 0; k < size; k++) bytes[i * size + k] = toByte(s.values[k], s.byteRange);
  });
  return { count: singles.length, height, width, channels, bytes };
}

/** Bytes of image `i` as a subarray. */
export function imageAt(p: PackedImages, i: number): Uint8Array {
  const size = p.height * p.width * p.channels;
  return p.bytes.subarray(i * size, (i + 1) * size);
}
