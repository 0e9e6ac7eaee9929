/**
 * Seeded random numbers for everything that must repeat for a given seed: perturbations,
 * shuffling, latent samples drawn on the JS side. Built on `seedrandom`'s Alea generator
 * (the same library tfjs uses for its own seeded ops).
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [lo, hi). */
  uniformRange(lo: number, hi: number): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** A 32-bit integer, e.g. to seed a tfjs op (`tf.randomNormal(shape, 0, 1, 'float32', rng.seed())`). */
  seed(): number;
  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): void;
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** An independent generator derived from this one (for sub-tasks whose order must not matter). */
  fork(label: string): Rng;
}

export function createRng(seed: number | string): Rng {
  const base = String(seed);
  const prng = seedrandom.alea(base);
  let spare: number | null = null;
  const rng: Rng = {
    uniform: () => prng(),
    uniformRange: (lo, hi) => lo + (hi - lo) * prng(),
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(prng() * n),
    seed: () => prng.int32() >>> 0,
    shuffle(a) {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(prng() * (i + 1));
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
      }
    },
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      rng.shuffle(p);
      return p;
    },
    fork: (label) => createRng(`${base}/${label}`),
  };
  return rng;
}

/**
 * The one shuffling scheme: the order of epoch `epoch` is a permutation drawn from
 * (`seed`, `stream`, `epoch`) only, so a resumed run repeats it and every consumer of the same
 * seed and stream (the trainer's pairs, `pairs.createPairSource`, `ImageDataset.batches`) sees the
 * same order. `stream` separates sources that share a seed (`train`, `val`, `test`, ...).
 */
export function epochPermutation(count: number, seed: number, epoch: number, stream = 'train'): Int32Array {
  return createRng(`${seed}/${stream}`).fork(`shuffle/${epoch}`).permutation(count);
}
