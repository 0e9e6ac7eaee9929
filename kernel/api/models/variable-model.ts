/**
 * What every model of pertset (the CVAEs and the classifiers) shares: its variables live in one
 * `VariableStore` seeded for the PyTorch-style initialisation, and it takes batches of NHWC
 * images of one shape.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { VariableStore } from './variable-store';

export abstract class VariableModel {
  abstract readonly architecture: string;
  /** Input image shape [height, width, channels]. */
  abstract readonly inputShape: [number, number, number];
  protected readonly store: VariableStore;

  /** `seed`: of the PyTorch-style initialisation (default 0). */
  constructor(seed = 0) {
    this.store = new VariableStore(seed);
  }

  get variables(): ReadonlyMap<string, tf.Variable> {
    return this.store.variables;
  }

  trainableVariables(): tf.Variable[] {
    return this.store.trainableVariables();
  }

  countParams(): number {
    return this.store.countParams();
  }

  dispose(): void {
    this.store.dispose();
  }

  /** Throws unless `x` is a batch of images of this model's input shape. */
  protected checkImages(x: tf.Tensor4D, what: string): void {
    const [h, w, c] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new ArgumentError(`${this.architecture}: ${what} must have shape [batch, ${h}, ${w}, ${c}], got [${x.shape.join(', ')}]`);
    }
  }
}
