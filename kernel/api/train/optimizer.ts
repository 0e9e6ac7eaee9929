/**
 * The training optimiser behind one small interface: Adam with PyTorch's defaults
 * (β1 0.9, β2 0.999, ε 1e-8), the learning rate set before every step from the schedule, and
 * its full state readable and restorable by the model's stable variable names, so a resumed run
 * continues bit-for-bit. Uses the backend's fused Adam when it is available (same math, fewer
 * kernels), else `tf.train.adam`.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdam } from '../backend/adam';
import { CheckpointError } from '../errors';
import type { NamedTensor } from '../runs/checkpoint';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
/** PyTorch's default; tfjs would use 1e-7. */
export const ADAM_EPSILON = 1e-8;

export type { NamedTensor } from '../runs/checkpoint';

export interface TrainingOptimizer {
  /** `tf.train.adam` or the fused kernel. */
  readonly kind: string;
  /** Optimiser steps taken. */
  readonly iterations: number;
  /** One update; `grads[i]` belongs to `variables[i]` of the constructor. Does not dispose `grads`. */
  apply(grads: tf.Tensor[], learningRate: number): void;
  /** Full state, keyed by stable names (`iterations`, `<var>/m`, `<var>/v`, ...); caller disposes. */
  getState(): NamedTensor[];
  /** Restores what `getState` returned (tensors are copied). */
  setState(state: NamedTensor[]): void;
  dispose(): void;
}

/** tfjs Adam, whose internals (`learningRate`, `accBeta*`, moments) we drive directly. */
interface AdamInternals {
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
}

class TfjsAdam implements TrainingOptimizer {
  readonly kind = 'tf.train.adam';
  private readonly opt: tf.AdamOptimizer;
  private readonly internals: AdamInternals;

  constructor(private readonly variables: tf.Variable[], private readonly names: string[]) {
    this.opt = new tf.AdamOptimizer(0, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON);
    this.internals = this.opt as unknown as AdamInternals;
  }

  get iterations(): number {
    return this.internals.iterations_;
  }

  apply(grads: tf.Tensor[], learningRate: number): void {
    this.internals.learningRate = learningRate;
    // The array form keeps the variable order fixed, which is what the moment slots are indexed by.
    this.opt.applyGradients(this.variables.map((v, i) => ({ name: v.name, tensor: grads[i] })));
  }

  getState(): NamedTensor[] {
    const s = this.internals;
    const out: NamedTensor[] = [
      { name: 'iterations', tensor: tf.scalar(s.iterations_, 'int32') },
      { name: 'accBeta1', tensor: s.accBeta1.clone() },
      { name: 'accBeta2', tensor: s.accBeta2.clone() },
    ];
    this.names.forEach((n, i) => {
      const m = s.accumulatedFirstMoment[i];
      const v = s.accumulatedSecondMoment[i];
      if (m && v) out.push({ name: `${n}/m`, tensor: m.variable.clone() }, { name: `${n}/v`, tensor: v.variable.clone() });
    });
    return out;
  }

  setState(state: NamedTensor[]): void {
    const byName = new Map(state.map((t) => [t.name, t.tensor]));
    const get = (name: string, shape?: number[]): tf.Tensor => {
      const t = byName.get(name);
      if (!t) throw new CheckpointError(`optimizer state: missing "${name}"`);
      if (shape && !tf.util.arraysEqual(t.shape, shape)) throw new CheckpointError(`optimizer state: "${name}" has shape [${t.shape}], the variable has [${shape}]`);
      return t;
    };
    const s = this.internals;
    const iterations = (get('iterations').dataSync() as Int32Array)[0];
    const moments: NamedTensor[] = [];
    const seconds: NamedTensor[] = [];
    if (iterations > 0) {
      this.names.forEach((n, i) => {
        moments.push({ name: `${this.variables[i].name}/m`, tensor: get(`${n}/m`, this.variables[i].shape) });
        seconds.push({ name: `${this.variables[i].name}/v`, tensor: get(`${n}/v`, this.variables[i].shape) });
      });
    }
    for (const slot of [...s.accumulatedFirstMoment, ...s.accumulatedSecondMoment]) slot.variable.dispose();
    s.accumulatedFirstMoment = moments.map((m) => ({ originalName: m.name, variable: m.tensor.clone().variable(false) }));
    s.accumulatedSecondMoment = seconds.map((m) => ({ originalName: m.name, variable: m.tensor.clone().variable(false) }));
    s.iterations_ = iterations;
    // Exact saved products, not β^(t+1) recomputed by pow (which differs in the last bits).
    s.accBeta1.assign(get('accBeta1'));
    s.accBeta2.assign(get('accBeta2'));
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/** The backend's out-of-graph Adam; its state is keyed by tfjs variable names, which we map to stable names. */
class FusedAdamAdapter implements TrainingOptimizer {
  readonly kind = 'fused-adam';
  private readonly opt = new FusedAdam({ learningRate: 0, beta1: ADAM_BETA1, beta2: ADAM_BETA2, epsilon: ADAM_EPSILON });
  private readonly toStable: Map<string, string>;
  private readonly toTfjs: Map<string, string>;

  constructor(private readonly variables: tf.Variable[], names: string[]) {
    this.toStable = new Map(variables.map((v, i) => [v.name, names[i]]));
    this.toTfjs = new Map(variables.map((v, i) => [names[i], v.name]));
  }

  get iterations(): number {
    return this.opt.iterations;
  }

  apply(grads: tf.Tensor[], learningRate: number): void {
    this.opt.learningRate = learningRate;
    this.opt.applyGradients(this.variables, grads);
  }

  getState(): NamedTensor[] {
    return this.opt.getState().map(({ name, tensor }) => {
      if (name === 'iter') return { name: 'iterations', tensor };
      const m = /^(.*)\/(m|v)$/.exec(name)!;
      return { name: `${this.toStable.get(m[1]) ?? m[1]}/${m[2]}`, tensor };
    });
  }

  setState(state: NamedTensor[]): void {
    const mapped = state
      .filter((s) => s.name !== 'accBeta1' && s.name !== 'accBeta2')
      .map(({ name, tensor }) => {
        if (name === 'iterations') return { name: 'iter', tensor };
        const m = /^(.*)\/(m|v)$/.exec(name);
        if (!m || !this.toTfjs.has(m[1])) throw new CheckpointError(`optimizer state: "${name}" matches no trainable variable of the model`);
        return { name: `${this.toTfjs.get(m[1])}/${m[2]}`, tensor };
      });
    this.opt.setState(mapped);
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/**
 * An Adam optimiser over `variables`; `names` are their stable names (checkpoint keys).
 * Default: the backend's fused Adam; `prefer: 'tfjs'` forces `tf.train.adam`. The two keep
 * different bookkeeping (tfjs also saves its running β products), so a checkpoint restores into
 * the kind that wrote it; the fused one ignores tfjs's extra entries.
 */
export function createAdam(variables: tf.Variable[], names: string[], options: { prefer?: 'fused' | 'tfjs' } = {}): TrainingOptimizer {
  if (variables.length !== names.length) throw new CheckpointError(`createAdam: ${variables.length} variables but ${names.length} names`);
  return options.prefer === 'tfjs' ? new TfjsAdam(variables, names) : new FusedAdamAdapter(variables, names);
}
