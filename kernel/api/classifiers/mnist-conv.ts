/**
 * The reference's `MNISTConv` (robustness/classifiers.py), an `nn.Sequential`:
 *   0 Conv2d(1→32, 4×4, stride 2, pad 1) → ReLU → 2 Conv2d(32→64, 4×4, s2, p1) → ReLU → flatten
 *   → 5 Linear(64·s·s → 1024) → ReLU → 7 Linear(1024 → numClasses)
 * On 28×28 inputs s = 7 (3136 features, 3,255,914 parameters). The flatten size is computed from
 * the input, so the same network takes the 42×42 canvas of the RTS sets (s = 10, 6400 features).
 * Variable names are the Sequential's indices (`0/kernel`, `7/bias`) as its state_dict keys.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { Conv2d, Dense, flattenChannelsFirst } from '../models/layers';
import { ClassifierBase, convOutputSize, type ClassifierOptions } from './base';
import type { ClassifierSpec } from './types';

export class MnistConvClassifier extends ClassifierBase {
  readonly architecture = 'mnist_conv' as const;
  /** Features entering the first linear layer (64·s·s). */
  readonly flatFeatures: number;
  private readonly conv1: Conv2d;
  private readonly conv2: Conv2d;
  private readonly fc1: Dense;
  private readonly fc2: Dense;

  constructor(spec: ClassifierSpec, options: ClassifierOptions = {}) {
    super(spec, options);
    const [h, w, c] = spec.inputShape;
    if (h !== w || c !== 1 || h < 4) throw new ArgumentError(`mnist_conv takes square single-channel images of side >= 4, got ${h}×${w}×${c}`);
    const side = convOutputSize(convOutputSize(h, 4, 2, 1), 4, 2, 1);
    this.flatFeatures = 64 * side * side;
    this.conv1 = new Conv2d(this.store, '0', 1, 32, 4, { stride: 2, padding: 1 });
    this.conv2 = new Conv2d(this.store, '2', 32, 64, 4, { stride: 2, padding: 1 });
    this.fc1 = new Dense(this.store, '5', this.flatFeatures, 1024);
    this.fc2 = new Dense(this.store, '7', 1024, spec.numClasses);
  }

  protected forward(x: tf.Tensor4D): tf.Tensor2D {
    const h = this.conv2.apply(this.conv1.apply(x, 'relu'), 'relu');
    // PyTorch flattens (C, H, W): transpose first so the first linear layer's weights match.
    return this.fc2.apply(this.fc1.apply(flattenChannelsFirst(h), 'relu'));
  }
}
