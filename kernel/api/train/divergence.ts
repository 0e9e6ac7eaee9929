/**
 * Detecting a run that has gone wrong before its update is applied: a non-finite loss or
 * gradient, or a loss that has grown by `factor` over the lowest loss seen so far (Adam with a
 * far too large learning rate blows the weights up by orders of magnitude within a few steps;
 * a healthy CVAE run never multiplies its loss by 1000).
 */
export const DEFAULT_DIVERGENCE_FACTOR = 1000;

export interface StepNumbers {
  /** Per-example loss, KL and reconstruction of the step. */
  loss: number;
  kl: number;
  recon: number;
  /** Squared global gradient norm. */
  gradNormSq: number;
}

export class DivergenceMonitor {
  /** Lowest per-example loss seen (restored on resume). */
  lowest: number;

  constructor(readonly factor = DEFAULT_DIVERGENCE_FACTOR, lowest = Infinity) {
    this.lowest = lowest;
  }

  /** A reason the step must not be applied, or null. Records the loss when it is fine. */
  check(s: StepNumbers): string | null {
    for (const [name, v] of [['loss', s.loss], ['KL', s.kl], ['reconstruction', s.recon], ['gradient norm', s.gradNormSq]] as const) {
      if (!Number.isFinite(v)) return `${name} is ${v}`;
    }
    if (Number.isFinite(this.lowest) && this.lowest > 0 && s.loss > this.factor * this.lowest) {
      return `loss ${s.loss.toPrecision(4)} per example is over ${this.factor}× the lowest so far (${this.lowest.toPrecision(4)})`;
    }
    if (s.loss < this.lowest) this.lowest = s.loss;
    return null;
  }
}
