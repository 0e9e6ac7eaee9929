/**
 * What the robustness tools need from a classifier, and the shared plumbing of their loops.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { PerturbationSet } from '../models/perturbation-set';
import type { CVAE } from '../models/types';
import { createRng } from '../random';

/**
 * A classifier as a function from NHWC images to logits [batch, classes]. It must be
 * differentiable for the latent attack (any tfjs model: `(x) => model.apply(x) as tf.Tensor2D`)
 * and in its evaluation mode (no dropout, batch-norm running statistics).
 */
export type ClassifierFn = (x: tf.Tensor4D) => tf.Tensor2D;

/** A learned set, or a bare CVAE (then the radius is the attack's ε, or irrelevant for smoothing). */
export type SetOrModel = PerturbationSet | CVAE;

/** The set to work in: `s` itself, or the CVAE `s` as a set of radius `radius`. */
export function asSet(s: SetOrModel, radius: number, where: string): PerturbationSet {
  if (s instanceof PerturbationSet) return s;
  if (s && typeof (s as CVAE).prior === 'function' && typeof (s as CVAE).generate === 'function') return new PerturbationSet(s as CVAE, radius);
  throw new ArgumentError(`${where}: the first argument must be a PerturbationSet or a CVAE`);
}

/** Labels as an int32 [batch] tensor the caller disposes (a copy when given as an array). */
export function labelTensor(labels: tf.Tensor1D | ArrayLike<number>, batch: number, where: string): tf.Tensor1D {
  const t = labels instanceof tf.Tensor ? (labels.dtype === 'int32' ? tf.clone(labels) : tf.cast(labels, 'int32')) : tf.tensor1d(Array.from(labels), 'int32');
  if (t.rank !== 1 || t.shape[0] !== batch) {
    const shape = t.shape;
    t.dispose();
    throw new ArgumentError(`${where}: labels must be [${batch}] (one per image), got [${shape}]`);
  }
  return t as tf.Tensor1D;
}

export function checkImages(x: tf.Tensor, where: string): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) throw new ArgumentError(`${where}: x must be a 4-D NHWC image tensor, got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}`);
}

export function checkPositiveInteger(v: number, name: string, where: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${where}: ${name} must be an integer >= 1, got ${v}`);
}

/** Between steps: lets signal handlers run, then honours `signal` and the kernel's interrupt. */
export async function checkStop(signal: AbortSignal | undefined, what: string): Promise<void> {
  await yieldToEventLoop();
  if (signal?.aborted) throw new InterruptedError(`${what} aborted`);
  throwIfInterrupted(what);
}

/** The integer seed of one (purpose, index) of a call made with `seed`. */
export function seedFor(seed: number, purpose: string, index: number | string): number {
  return createRng(`${seed}/${purpose}/${index}`).seed();
}
