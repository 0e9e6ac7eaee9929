/**
 * The named variables of one model. Names are stable paths ("prior/fc1/kernel") that key
 * checkpoints and the PyTorch importer; tfjs's own (global, must-be-unique) variable names get a
 * per-model prefix so several models can live in one process.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';

let nextModelId = 0;

export class VariableStore {
  readonly variables = new Map<string, tf.Variable>();
  private readonly trainable = new Set<string>();
  private readonly prefix: string;

  constructor(readonly seed: number) {
    this.prefix = `pertset_m${nextModelId++}`;
  }

  /** Registers a variable holding `values` (copied) under `name`. */
  add(name: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
    if (this.variables.has(name)) throw new ArgumentError(`variable "${name}" is defined twice`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable, `${this.prefix}/${name}`));
    this.variables.set(name, v);
    if (trainable) this.trainable.add(name);
    return v;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.variables].filter(([n]) => this.trainable.has(n)).map(([, v]) => v);
  }

  countParams(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.trainable.clear();
  }
}
