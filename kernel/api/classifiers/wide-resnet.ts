/**
 * WideResNet (Zagoruyko & Komodakis 2016) in the layout the reference's robustness code uses
 * (the common PyTorch `WideResNet(depth, num_classes, widen_factor)`): conv1 3×3 (3→16) → three
 * groups of n = (depth − 4)/6 pre-activation `BasicBlock`s with 16k, 32k, 64k channels (k the
 * width factor; stride 1, 2, 2) → bn → relu → global average pool (avg_pool2d 8) → fc.
 * A block: if the channel count changes, x ← relu(bn1(x)) and the skip is a 1×1 conv
 * (`convShortcut`) of it; otherwise the skip is x and relu(bn1(x)) feeds conv1. Then
 * conv1 → relu(bn2) → conv2; + skip. No dropout (the reference's default drop rate is 0).
 * WRN-28-10 has 36,479,194 parameters. Names: `block1/layer/0/conv1/kernel`, `bn1/gamma`, `fc/bias`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { BatchNorm2d, Conv2d, Dense } from '../models/layers';
import type { VariableStore } from '../models/variable-store';
import { ClassifierBase, type ClassifierOptions } from './base';
import type { ClassifierSpec } from './types';

class BasicBlock {
  private readonly bn1: BatchNorm2d;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly convShortcut: Conv2d | null;

  constructor(store: VariableStore, scope: string, inPlanes: number, outPlanes: number, stride: number) {
    this.bn1 = new BatchNorm2d(store, `${scope}/bn1`, inPlanes);
    this.conv1 = new Conv2d(store, `${scope}/conv1`, inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(store, `${scope}/bn2`, outPlanes);
    this.conv2 = new Conv2d(store, `${scope}/conv2`, outPlanes, outPlanes, 3, { padding: 1, bias: false });
    this.convShortcut = inPlanes !== outPlanes ? new Conv2d(store, `${scope}/convShortcut`, inPlanes, outPlanes, 1, { stride, bias: false }) : null;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const pre = tf.relu(this.bn1.apply(x, training));
    const skip = this.convShortcut ? this.convShortcut.apply(pre) : x;
    const h = this.conv2.apply(tf.relu(this.bn2.apply(this.conv1.apply(pre), training)));
    return tf.add(h, skip);
  }
}

export class WideResNet extends ClassifierBase {
  readonly architecture = 'wideresnet' as const;
  private readonly conv1: Conv2d;
  private readonly blocks: BasicBlock[] = [];
  private readonly bn1: BatchNorm2d;
  private readonly fc: Dense;

  constructor(spec: ClassifierSpec, options: ClassifierOptions = {}) {
    super(spec, options);
    const [h, w, c] = spec.inputShape;
    if (h !== 32 || w !== 32 || c !== 3) throw new ArgumentError(`wideresnet takes CIFAR-10 images 32×32×3, got ${h}×${w}×${c}`);
    const depth = spec.depth ?? 28;
    const k = spec.widthFactor ?? 10;
    if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) throw new ArgumentError(`wideresnet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got ${depth}`);
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`wideresnet: width factor must be an integer >= 1, got ${k}`);
    const n = (depth - 4) / 6;
    const widths = [16, 16 * k, 32 * k, 64 * k];
    this.conv1 = new Conv2d(this.store, 'conv1', 3, widths[0], 3, { padding: 1, bias: false });
    for (let g = 0; g < 3; g++) {
      for (let b = 0; b < n; b++) {
        const inPlanes = b === 0 ? widths[g] : widths[g + 1];
        const stride = b === 0 && g > 0 ? 2 : 1;
        this.blocks.push(new BasicBlock(this.store, `block${g + 1}/layer/${b}`, inPlanes, widths[g + 1], stride));
      }
    }
    this.bn1 = new BatchNorm2d(this.store, 'bn1', widths[3]);
    this.fc = new Dense(this.store, 'fc', widths[3], spec.numClasses);
  }

  protected forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let h = this.conv1.apply(x);
    for (const block of this.blocks) h = block.apply(h, training);
    h = tf.relu(this.bn1.apply(h, training));
    return this.fc.apply(tf.mean(h, [1, 2]) as tf.Tensor2D);
  }
}
