/**
 * What every classifier shares beyond a `VariableModel`'s variables and input check: the optional CIFAR-10
 * channel normalisation in front (the reference's `CIFAR10Normalize`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { VariableModel } from '../models/variable-model';
import type { Classifier, ClassifierArchitecture, ClassifierSpec } from './types';

/** CIFAR-10 channel statistics the reference normalises with (robustness/classifiers.py). */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR10_STD = [0.2023, 0.1994, 0.201] as const;

export interface ClassifierOptions {
  /** Seed of the PyTorch-style initialisation (default 0). */
  seed?: number;
}

export abstract class ClassifierBase extends VariableModel implements Classifier {
  abstract override readonly architecture: ClassifierArchitecture;

  constructor(readonly spec: ClassifierSpec, options: ClassifierOptions) {
    super(options.seed);
  }

  get inputShape(): [number, number, number] {
    return this.spec.inputShape;
  }
  get numClasses(): number {
    return this.spec.numClasses;
  }

  logits(x: tf.Tensor4D, training = false): tf.Tensor2D {
    this.checkImages(x, 'x');
    return tf.tidy(() => this.forward(this.spec.normalize ? normalizeCifar10(x) : x, training));
  }

  protected abstract forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
}

function normalizeCifar10(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[3] !== 3) throw new ArgumentError(`CIFAR-10 normalisation needs 3 channels, got ${x.shape[3]}`);
  return tf.div(tf.sub(x, tf.tensor1d(CIFAR10_MEAN.slice())), tf.tensor1d(CIFAR10_STD.slice()));
}

/** Output side of a PyTorch convolution: floor((n + 2p − k) / s) + 1. */
export function convOutputSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}
