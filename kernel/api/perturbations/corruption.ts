/**
 * Common corruptions as a perturbation: x̃ = one corruption, drawn uniformly from a list, of x at a
 * fixed severity, as the paper's CIFAR-10-C pairs (clean x, one of its 12 training corruptions at
 * severity 5). `mnistc` is the MNIST analogue: by default the 12 training corruptions of the
 * `mnistc` suite at severity 5; `corruptions: 'heldout'` gives the 3 held-out (OOD) ones.
 */
import { ArgumentError } from '../errors';
import { Corrupter, checkCorruption, checkSeverity } from '../corruptions/corrupter';
import type { SuiteName } from '../corruptions/suites';
import type { Rng } from '../random';
import { checkSize } from './linf';
import type { Perturbation, Shape4 } from './types';

/** Which corruptions x̃ is drawn from: the suite's training ones, its held-out ones, all, or named ones. */
export type CorruptionChoice = 'train' | 'heldout' | 'all' | string[];

export interface CorruptionPerturbationOptions {
  /** Default `train`. */
  corruptions?: CorruptionChoice;
  /** Default 5 (the paper's protocol). */
  severity?: number;
  /** Folder of the frost overlays (only the CIFAR-10-C `frost` corruption needs them). */
  frostDir?: string;
}

export class CorruptionPerturbation implements Perturbation {
  readonly type: string;
  readonly corruptions: readonly string[];
  readonly severity: number;
  readonly choice: string;
  private readonly corrupter: Corrupter;

  constructor(suite: SuiteName, options: CorruptionPerturbationOptions = {}) {
    this.corrupter = new Corrupter(suite, { frostDir: options.frostDir });
    const s = this.corrupter.suite;
    this.type = s.name;
    const choice = options.corruptions ?? 'train';
    if (Array.isArray(choice)) {
      if (choice.length === 0) throw new ArgumentError(`${s.name}: corruptions must name at least one corruption`);
      for (const n of choice) checkCorruption(s, n);
      this.corruptions = [...choice];
      this.choice = 'named';
    } else {
      const lists = { train: s.train, heldout: s.heldOut, all: s.names } as const;
      if (!(choice in lists)) throw new ArgumentError(`${s.name}: corruptions must be train, heldout, all or a list of names, got ${JSON.stringify(choice)}`);
      this.corruptions = lists[choice];
      this.choice = choice;
    }
    this.severity = options.severity ?? s.protocolSeverity;
    checkSeverity(this.severity);
  }

  describe(): Record<string, unknown> {
    return { type: this.type, corruptions: this.choice, names: [...this.corruptions], severity: this.severity };
  }

  outputShape(shape: Shape4): Shape4 {
    return [...shape];
  }

  perturbBatch(x: Float32Array, shape: Shape4, rng: Rng): Float32Array {
    checkSize(x, shape, this.type);
    const [n, h, w, c] = shape;
    const size = h * w * c;
    const out = new Float32Array(x.length);
    const image = (i: number) => x.subarray(i * size, (i + 1) * size);
    // Images in order, each drawing from `rng`; those whose corruption draws nothing and runs in
    // bulk (JPEG) are done together at the end.
    const bulk = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const name = this.corruptions[rng.int(this.corruptions.length)];
      if (this.corrupter.isBulk(name)) bulk.set(name, [...(bulk.get(name) ?? []), i]);
      else out.set(this.corrupter.apply(image(i), [h, w, c], name, this.severity, rng), i * size);
    }
    for (const [name, indices] of bulk) {
      const done = this.corrupter.applyMany(indices.map(image), [h, w, c], name, this.severity, () => rng);
      indices.forEach((i, k) => out.set(done[k], i * size));
    }
    return out;
  }
}
