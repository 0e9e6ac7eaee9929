/**
 * Adam outside the tfjs op graph: one loop over each variable's data per step, instead of the
 * ~11 full-size kernels per variable that `tf.train.adam` launches. Same math as
 * `tf.train.adam` (bias-corrected moments, epsilon added to √v̂).
 *
 * New weights always go into a FRESH tensor that is then assigned to the variable: tfjs-wasm
 * caches XNNPACK operators (with packed weights) by tensor id, so writing into the old buffer
 * would leave stale packed weights behind. The moments live in plain Float32Arrays owned here.
 *
 * On wasm the loop reads and writes the wasm heap directly; on other backends it goes through
 * typed arrays. The loop itself is swappable (`setAdamStepImplementation`), e.g. for a native one.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { heapF32, type WasmBackend } from './wasm-kernels/wasm-internals';

export interface FusedAdamOptions {
  learningRate: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7, as `tf.train.adam` on float32 backends (PyTorch's default is 1e-8). */
  epsilon?: number;
}

/** One variable's update. Arrays have equal length; `out` must not alias `weights`. */
export interface AdamStepArgs {
  weights: Float32Array;
  grads: Float32Array;
  /** First moment, updated in place. */
  m: Float32Array;
  /** Second moment, updated in place. */
  v: Float32Array;
  /** Receives the new weights. */
  out: Float32Array;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − beta1^t and 1 − beta2^t for this step t (1-based). */
  biasCorrection1: number;
  biasCorrection2: number;
}

export type AdamStepImplementation = (args: AdamStepArgs) => void;

/** The reference loop: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − lr·m̂ / (√v̂ + ε). */
export const jsAdamStep: AdamStepImplementation = (a) => {
  const { weights, grads, m, v, out, beta1, beta2, epsilon } = a;
  const oneMinusB1 = 1 - beta1;
  const oneMinusB2 = 1 - beta2;
  const c1 = 1 / a.biasCorrection1;
  const c2 = 1 / a.biasCorrection2;
  const lr = a.learningRate;
  for (let i = 0; i < weights.length; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + oneMinusB1 * g;
    const vi = beta2 * v[i] + oneMinusB2 * g * g;
    m[i] = mi;
    v[i] = vi;
    out[i] = weights[i] - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
  }
};

let stepImplementation: AdamStepImplementation = jsAdamStep;
let stepImplementationName = 'js';
/** Names of implementations seen, so that restoring a previous one restores its name too. */
const implementationNames = new WeakMap<AdamStepImplementation, string>([[jsAdamStep, 'js']]);

/**
 * Replaces the inner loop for every FusedAdam (null restores the JS loop). Returns the previous
 * one, which can be passed back later (its name comes back with it).
 */
export function setAdamStepImplementation(impl: AdamStepImplementation | null, name?: string): AdamStepImplementation {
  const previous = stepImplementation;
  stepImplementation = impl ?? jsAdamStep;
  stepImplementationName = name ?? implementationNames.get(stepImplementation) ?? 'custom';
  implementationNames.set(stepImplementation, stepImplementationName);
  return previous;
}

/** Which inner loop is in use: `js` or the name given to setAdamStepImplementation. */
export function adamStepImplementationName(): string {
  return stepImplementationName;
}

interface Slot {
  m: Float32Array;
  v: Float32Array;
  /** The variable's shape (state tensors are returned in it). */
  shape: number[];
}

function isWasm(backend: tf.KernelBackend): backend is tf.KernelBackend & WasmBackend {
  return tf.getBackend() === 'wasm' && 'dataIdMap' in backend && 'wasm' in backend;
}

export class FusedAdam {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private step = 0;
  private readonly slots = new Map<string, Slot>();

  constructor(opts: FusedAdamOptions) {
    const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = opts;
    if (!Number.isFinite(learningRate) || learningRate < 0) throw new ArgumentError(`FusedAdam: learningRate must be a finite number >= 0, got ${learningRate}`);
    for (const [name, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new ArgumentError(`FusedAdam: ${name} must be in [0, 1), got ${b}`);
    }
    if (!(epsilon > 0)) throw new ArgumentError(`FusedAdam: epsilon must be > 0, got ${epsilon}`);
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  /** Number of steps applied so far. */
  get iterations(): number {
    return this.step;
  }

  applyGradients(vars: tf.Variable[], grads: tf.Tensor[]): void {
    if (vars.length !== grads.length) throw new ArgumentError(`FusedAdam.applyGradients: ${vars.length} variables but ${grads.length} gradients`);
    vars.forEach((v, i) => {
      const g = grads[i];
      if (g == null) throw new ArgumentError(`FusedAdam.applyGradients: no gradient for variable "${v.name}"`);
      if (v.dtype !== 'float32' || g.dtype !== 'float32') throw new ArgumentError(`FusedAdam.applyGradients: variable "${v.name}" and its gradient must be float32, got ${v.dtype} and ${g.dtype}`);
      if (!tf.util.arraysEqual(v.shape, g.shape)) throw new ArgumentError(`FusedAdam.applyGradients: gradient shape [${g.shape}] does not match variable "${v.name}" [${v.shape}]`);
    });
    const slots = vars.map((v) => this.slot(v)); // validates restored state before anything changes
    this.step++;
    const biasCorrection1 = 1 - Math.pow(this.beta1, this.step);
    const biasCorrection2 = 1 - Math.pow(this.beta2, this.step);
    const backend = tf.backend();
    const wasm = isWasm(backend) ? backend : null;
    for (let i = 0; i < vars.length; i++) {
      const variable = vars[i];
      const slot = slots[i];
      const args = { m: slot.m, v: slot.v, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, biasCorrection1, biasCorrection2 };
      let fresh: tf.Tensor;
      if (wasm && wasm.dataIdMap.has(variable.dataId) && wasm.dataIdMap.has(grads[i].dataId)) {
        // Allocate first, then take heap views: allocation may grow (and detach) the heap.
        const info = wasm.makeOutput(variable.shape, 'float32');
        fresh = tf.engine().makeTensorFromTensorInfo(info);
        try {
          stepImplementation({ ...args, weights: heapF32(wasm, variable), grads: heapF32(wasm, grads[i]), out: heapF32(wasm, fresh) });
        } catch (e) {
          fresh.dispose();
          throw e;
        }
      } else {
        // Other backends, or tensors still living on another backend: through typed arrays.
        const out = new Float32Array(slot.m.length);
        stepImplementation({ ...args, weights: variable.dataSync() as Float32Array, grads: grads[i].dataSync() as Float32Array, out });
        fresh = tf.tensor(out, variable.shape, 'float32');
      }
      variable.assign(fresh);
      fresh.dispose();
    }
  }

  /** Copies of the optimizer state (`iter`, then `<variable>/m` and `<variable>/v`); the caller disposes them. */
  getState(): { name: string; tensor: tf.Tensor }[] {
    const state = [{ name: 'iter', tensor: tf.scalar(this.step, 'int32') as tf.Tensor }];
    for (const [name, slot] of this.slots) {
      state.push({ name: `${name}/m`, tensor: tf.tensor(slot.m.slice(), slot.shape) });
      state.push({ name: `${name}/v`, tensor: tf.tensor(slot.v.slice(), slot.shape) });
    }
    return state;
  }

  /** Restores what getState() returned (tensors are read, not kept). */
  setState(state: { name: string; tensor: tf.Tensor }[]): void {
    const iter = state.find((s) => s.name === 'iter');
    if (!iter) throw new ArgumentError('FusedAdam.setState: missing "iter" entry');
    const step = iter.tensor.dataSync()[0];
    if (!Number.isInteger(step) || step < 0) throw new ArgumentError(`FusedAdam.setState: "iter" must be a non-negative integer, got ${step}`);
    const slots = new Map<string, Slot>();
    for (const { name, tensor } of state) {
      if (name === 'iter') continue;
      const match = /^(.*)\/(m|v)$/.exec(name);
      if (!match) throw new ArgumentError(`FusedAdam.setState: unexpected entry "${name}" (expected "iter", "<variable>/m" or "<variable>/v")`);
      const data = Float32Array.from(tensor.dataSync());
      const slot = slots.get(match[1]) ?? { m: new Float32Array(0), v: new Float32Array(0), shape: tensor.shape };
      slot[match[2] as 'm' | 'v'] = data;
      slots.set(match[1], slot);
    }
    for (const [name, slot] of slots) {
      if (slot.m.length !== slot.v.length) throw new ArgumentError(`FusedAdam.setState: "${name}/m" and "${name}/v" differ in size (${slot.m.length} vs ${slot.v.length}) or one is missing`);
    }
    this.step = step;
    this.slots.clear();
    for (const [name, slot] of slots) this.slots.set(name, slot);
  }

  dispose(): void {
    this.slots.clear();
  }

  private slot(variable: tf.Variable): Slot {
    let slot = this.slots.get(variable.name);
    if (slot && slot.m.length !== variable.size) {
      throw new ArgumentError(`FusedAdam: optimizer state for "${variable.name}" has ${slot.m.length} values but the variable has ${variable.size}`);
    }
    if (!slot) {
      slot = { m: new Float32Array(variable.size), v: new Float32Array(variable.size), shape: variable.shape };
      this.slots.set(variable.name, slot);
    }
    slot.shape = variable.shape;
    return slot;
  }
}

