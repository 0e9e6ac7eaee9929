/**
 * The limited-data RTS ablation (`mnist_stn_rts_limited_1/5`): every training image owns a fixed
 * bank of k pre-sampled RTS perturbations, and each time the image is drawn one of its k is
 * picked at random. The reference stores 20 perturbed images per image (`mnist_rts20.pth`) and
 * uses the first k; here a bank is the first k draws of a generator seeded by (bank seed, source
 * index), so it is reproducible without storing images, and the bank for k = 1 is the first
 * entry of the bank for k = 5, as in the reference.
 */
import { ArgumentError } from '../errors';
import { createRng, type Rng } from '../random';
import { RtsPerturbation, type RtsOptions, type RtsParams } from './rts';
import type { Shape4 } from './types';

export interface LimitedRtsOptions extends RtsOptions {
  /** Perturbations per image (the reference uses 1 or 5, out of a pool of 20). */
  k: number;
  /** Seed of the banks; independent of the training seed so every run sees the same banks. Default 0. */
  bankSeed?: number;
}

export class LimitedRtsPerturbation extends RtsPerturbation {
  override readonly type = 'rts_limited';
  readonly k: number;
  readonly bankSeed: number;

  constructor(options: LimitedRtsOptions) {
    super(options);
    if (!Number.isInteger(options.k) || options.k < 1) throw new ArgumentError(`rts_limited: k must be an integer >= 1, got ${options.k}`);
    this.k = options.k;
    this.bankSeed = options.bankSeed ?? 0;
  }

  override describe(): Record<string, unknown> {
    return { ...super.describe(), type: this.type, k: this.k, bankSeed: this.bankSeed };
  }

  /** The k fixed perturbations of the image with index `sourceIndex` in its source file. */
  bank(sourceIndex: number, shape: Shape4): RtsParams[] {
    const rng = createRng(`rts-bank/${this.bankSeed}/${sourceIndex}`);
    const params: RtsParams[] = [];
    for (let j = 0; j < this.k; j++) params.push(this.sampleParams(rng, shape));
    return params;
  }

  protected override paramsFor(rng: Rng, shape: Shape4, n: number, sourceIndices?: ArrayLike<number>): RtsParams {
    if (!sourceIndices || sourceIndices.length !== shape[0]) {
      throw new ArgumentError(`rts_limited: needs the source index of every image in the batch (got ${sourceIndices ? sourceIndices.length : 'none'} for ${shape[0]} images)`);
    }
    const bank = this.bank(sourceIndices[n], shape);
    return bank[rng.int(this.k)];
  }
}
