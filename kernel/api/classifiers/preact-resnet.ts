/**
 * Pre-activation ResNet-18 (He et al. 2016, "Identity Mappings"), as the reference's
 * robustness/preactresnet.py (kuangliu's CIFAR version): conv1 3×3 (3→64) → four layers of two
 * `PreActBlock`s (64, 128, 256, 512 channels; stride 2 from layer2 on) → global average pool
 * (avg_pool2d 4 on the 4×4 map) → linear. A block: out = relu(bn1(x)); shortcut = 1×1 conv of
 * `out` when the shape changes, else x; conv1 → relu(bn2) → conv2; + shortcut. No conv has a bias.
 * Names follow its state_dict: `layer2/0/shortcut/0/kernel`, `layer1/1/bn2/moving_mean`, `linear/bias`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { BatchNorm2d, Conv2d, Dense } from '../models/layers';
import type { VariableStore } from '../models/variable-store';
import { ClassifierBase, type ClassifierOptions } from './base';
import type { ClassifierSpec } from './types';

class PreActBlock {
  private readonly bn1: BatchNorm2d;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly shortcut: Conv2d | null;

  constructor(store: VariableStore, scope: string, inPlanes: number, planes: number, stride: number) {
    this.bn1 = new BatchNorm2d(store, `${scope}/bn1`, inPlanes);
    this.conv1 = new Conv2d(store, `${scope}/conv1`, inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(store, `${scope}/bn2`, planes);
    this.conv2 = new Conv2d(store, `${scope}/conv2`, planes, planes, 3, { padding: 1, bias: false });
    this.shortcut = stride !== 1 || inPlanes !== planes ? new Conv2d(store, `${scope}/shortcut/0`, inPlanes, planes, 1, { stride, bias: false }) : null;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const out = tf.relu(this.bn1.apply(x, training));
    const shortcut = this.shortcut ? this.shortcut.apply(out) : x;
    const h = this.conv2.apply(tf.relu(this.bn2.apply(this.conv1.apply(out), training)));
    return tf.add(h, shortcut);
  }
}

export class PreActResNet18 extends ClassifierBase {
  readonly architecture = 'preact_resnet18' as const;
  private readonly conv1: Conv2d;
  private readonly blocks: PreActBlock[] = [];
  private readonly linear: Dense;

  constructor(spec: ClassifierSpec, options: ClassifierOptions = {}) {
    super(spec, options);
    const [h, w, c] = spec.inputShape;
    if (h !== 32 || w !== 32 || c !== 3) throw new ArgumentError(`preact_resnet18 takes CIFAR-10 images 32×32×3, got ${h}×${w}×${c}`);
    this.conv1 = new Conv2d(this.store, 'conv1', 3, 64, 3, { padding: 1, bias: false });
    let inPlanes = 64;
    [64, 128, 256, 512].forEach((planes, layer) => {
      for (let b = 0; b < 2; b++) {
        const stride = layer > 0 && b === 0 ? 2 : 1;
        this.blocks.push(new PreActBlock(this.store, `layer${layer + 1}/${b}`, inPlanes, planes, stride));
        inPlanes = planes;
      }
    });
    this.linear = new Dense(this.store, 'linear', 512, spec.numClasses);
  }

  protected forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let h = this.conv1.apply(x);
    for (const block of this.blocks) h = block.apply(h, training);
    // avg_pool2d(out, 4) on the final 4×4 map is the global mean.
    return this.linear.apply(tf.mean(h, [1, 2]) as tf.Tensor2D);
  }
}
