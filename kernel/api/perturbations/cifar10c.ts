/**
 * The paper's CIFAR-10-C pairings (reference configs with `perturbation.*_type: "dataloader"` and
 * `dataset.type` `cifar10c`, `cifar10c_withoriginal`, `cifar10c_nooriginal`). Every image owns a
 * fixed bank of corrupted versions, one per (corruption, severity), as the reference reads them
 * from a pre-generated CIFAR-10-C of the training set; here version v of the image with source
 * index i is generated once from a generator seeded by (bank seed, i, corruption, severity) and
 * kept as 8-bit values (truncated, as the reference's `np.uint8` arrays), so every run sees the
 * same bank without storing it. A pair is then
 *  - `original`: x = the clean image, x̃ = one of its versions at random;
 *  - `withoriginal`: an ordered pair of distinct items of {clean, versions};
 *  - `nooriginal`: an ordered pair of distinct versions (the clean image is never used);
 * and, with `cropFlip`, both images get the same random crop (zero padding `pad`, crop back to
 * 32×32) and the same random horizontal flip (probability ½), as the reference's training loader.
 *
 * Pairings choose x as well as x̃, so they implement `pairBatch`; `perturbBatch` (x̃ for a given
 * x) exists only for `original` without crop/flip, where x stays the clean image.
 */
import { ArgumentError } from '../errors';
import { Corrupter, checkCorruption, checkSeverity } from '../corruptions/corrupter';
import { createRng, type Rng } from '../random';
import { checkSize } from './linf';
import type { Perturbation, PerturbedPair, Shape4 } from './types';

export const CIFAR10C_PAIRINGS = ['original', 'withoriginal', 'nooriginal'] as const;
export type Cifar10cPairingName = (typeof CIFAR10C_PAIRINGS)[number];

export interface CropFlip {
  /** Zero padding on each side before the random 32×32 crop (the reference: 4). */
  pad: number;
  /** Flip both images horizontally with probability ½. */
  flip: boolean;
}

export interface Cifar10cPairingOptions {
  /** Default `original`. */
  pairing?: Cifar10cPairingName;
  /** Corruptions of the bank (default: the suite's 12 training corruptions). */
  corruptions?: readonly string[];
  /** Severities of the bank (default [5]); the bank has one version per (corruption, severity). */
  severities?: readonly number[];
  /** Joint random crop and flip (default none: evaluation pairs). */
  cropFlip?: CropFlip | null;
  /** Seed of the banks; independent of the training seed, so every run sees the same bank. Default 0. */
  bankSeed?: number;
  /** Folder of the frost overlays. */
  frostDir?: string;
}

/** Banks kept per (bank seed, frost folder): the training, validation and test sources share them. */
const BANKS = new Map<string, Map<number, Uint8Array>>();

export class Cifar10cPairing implements Perturbation {
  readonly type = 'cifar10c';
  readonly pairing: Cifar10cPairingName;
  readonly versions: ReadonlyArray<{ corruption: string; severity: number }>;
  readonly cropFlip: CropFlip | null;
  readonly bankSeed: number;
  private readonly corrupter: Corrupter;
  private readonly bank: Map<number, Uint8Array>;

  constructor(options: Cifar10cPairingOptions = {}) {
    this.corrupter = new Corrupter('cifar10c', { frostDir: options.frostDir });
    const suite = this.corrupter.suite;
    this.pairing = options.pairing ?? 'original';
    if (!(CIFAR10C_PAIRINGS as readonly string[]).includes(this.pairing)) {
      throw new ArgumentError(`cifar10c: pairing must be one of ${CIFAR10C_PAIRINGS.join(', ')}, got ${JSON.stringify(this.pairing)}`);
    }
    const corruptions = options.corruptions ?? suite.train;
    const severities = options.severities ?? [suite.protocolSeverity];
    if (corruptions.length === 0) throw new ArgumentError('cifar10c: corruptions must name at least one corruption');
    if (severities.length === 0) throw new ArgumentError('cifar10c: severities must list at least one severity');
    for (const c of corruptions) checkCorruption(suite, c);
    for (const s of severities) checkSeverity(s);
    this.versions = corruptions.flatMap((corruption) => severities.map((severity) => ({ corruption, severity })));
    if (this.pairing === 'nooriginal' && this.versions.length < 2) {
      throw new ArgumentError('cifar10c: the nooriginal pairing needs at least two corrupted versions (corruptions × severities)');
    }
    const cf = options.cropFlip ?? null;
    if (cf && (!Number.isInteger(cf.pad) || cf.pad < 0)) throw new ArgumentError(`cifar10c: cropFlip.pad must be an integer >= 0, got ${cf.pad}`);
    this.cropFlip = cf;
    this.bankSeed = options.bankSeed ?? 0;
    const bankKey = `${this.bankSeed}/${options.frostDir ?? ''}`;
    if (!BANKS.has(bankKey)) BANKS.set(bankKey, new Map());
    this.bank = BANKS.get(bankKey)!;
  }

  describe(): Record<string, unknown> {
    return {
      type: this.type,
      pairing: this.pairing,
      corruptions: [...new Set(this.versions.map((v) => v.corruption))],
      severities: [...new Set(this.versions.map((v) => v.severity))],
      cropFlip: this.cropFlip,
      bankSeed: this.bankSeed,
    };
  }

  outputShape(shape: Shape4): Shape4 {
    return [...shape];
  }

  perturbBatch(x: Float32Array, shape: Shape4, rng: Rng, sourceIndices?: ArrayLike<number>): Float32Array {
    if (this.pairing !== 'original' || this.cropFlip) {
      throw new ArgumentError(`cifar10c: the ${this.pairing} pairing${this.cropFlip ? ' with crop/flip' : ''} changes x as well; draw pairs with pairBatch`);
    }
    return this.pairBatch(x, shape, rng, sourceIndices).xPerturbed;
  }

  pairBatch(x: Float32Array, shape: Shape4, rng: Rng, sourceIndices?: ArrayLike<number>): PerturbedPair {
    checkSize(x, shape, this.type);
    const [n, h, w, c] = shape;
    if (h !== 32 || w !== 32 || c !== 3) throw new ArgumentError(`cifar10c: images must be 32×32×3, got ${h}×${w}×${c}`);
    if (!sourceIndices || sourceIndices.length !== n) {
      throw new ArgumentError(`cifar10c: needs the source index of every image in the batch (got ${sourceIndices ? sourceIndices.length : 'none'} for ${n} images)`);
    }
    const size = h * w * c;
    const outX = new Float32Array(x.length);
    const outT = new Float32Array(x.length);
    const k = this.versions.length;
    this.fillBanks(x, sourceIndices, size);
    for (let i = 0; i < n; i++) {
      const clean = x.subarray(i * size, (i + 1) * size);
      const versions = this.versionsOf(sourceIndices[i], size);
      const item = (j: number): Float32Array => (j < 0 ? clean : versions[j]);
      let a: number;
      let b: number;
      if (this.pairing === 'original') {
        a = -1;
        b = rng.int(k);
      } else {
        // Items: −1 (clean, withoriginal only) and 0..k−1; two distinct ones, in order.
        const lo = this.pairing === 'withoriginal' ? -1 : 0;
        const count = k - lo;
        a = lo + rng.int(count);
        b = lo + rng.int(count - 1);
        if (b >= a) b++;
      }
      let xi = item(a);
      let ti = item(b);
      if (this.cropFlip) [xi, ti] = this.jointCropFlip([xi, ti], rng);
      outX.set(xi, i * size);
      outT.set(ti, i * size);
    }
    return { x: outX, xPerturbed: outT };
  }

  /**
   * Generates the banks of the batch's images not seen yet, version by version over all of them
   * (JPEG then runs once for the lot), as 8-bit values.
   */
  private fillBanks(x: Float32Array, sourceIndices: ArrayLike<number>, size: number): void {
    const missing: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < sourceIndices.length; i++) {
      const s = sourceIndices[i];
      if (!this.bank.has(s) && !seen.has(s)) {
        seen.add(s);
        missing.push(i);
      }
    }
    if (missing.length === 0) return;
    const stored = missing.map(() => new Uint8Array(this.versions.length * size));
    const cleans = missing.map((i) => x.subarray(i * size, (i + 1) * size));
    this.versions.forEach(({ corruption, severity }, v) => {
      const outs = this.corrupter.applyMany(cleans, [32, 32, 3], corruption, severity,
        (j) => createRng(`cifar10c-bank/${this.bankSeed}/${sourceIndices[missing[j]]}/${corruption}/${severity}`));
      outs.forEach((out, j) => {
        // np.uint8 of the corrupted image ×255 (truncation; the small offset keeps exact levels).
        for (let p = 0; p < size; p++) stored[j][v * size + p] = Math.floor(Math.min(1, Math.max(0, out[p])) * 255 + 1e-4);
      });
    });
    missing.forEach((i, j) => this.bank.set(sourceIndices[i], stored[j]));
  }

  /** The k corrupted versions of one image (its bank must exist). */
  private versionsOf(sourceIndex: number, size: number): Float32Array[] {
    const stored = this.bank.get(sourceIndex)!;
    return this.versions.map((_, v) => Float32Array.from(stored.subarray(v * size, (v + 1) * size), (q) => q / 255));
  }

  /** The same zero-pad + random crop and the same flip for every image (HWC, 32×32×3). */
  private jointCropFlip(images: Float32Array[], rng: Rng): Float32Array[] {
    const { pad, flip } = this.cropFlip!;
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    const mirror = flip && rng.uniform() < 0.5;
    return images.map((im) => {
      const out = new Float32Array(im.length);
      for (let y = 0; y < 32; y++) {
        const sy = y + dy;
        if (sy < 0 || sy >= 32) continue;
        for (let xo = 0; xo < 32; xo++) {
          const sx = (mirror ? 31 - xo : xo) + dx;
          if (sx < 0 || sx >= 32) continue;
          const o = (y * 32 + xo) * 3;
          const s = (sy * 32 + sx) * 3;
          out[o] = im[s];
          out[o + 1] = im[s + 1];
          out[o + 2] = im[s + 2];
        }
      }
      return out;
    });
  }
}
