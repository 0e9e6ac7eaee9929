/**
 * The reference's fixed validation split, reproduced bit-for-bit: it calls
 * `torch.manual_seed(0)` then `torch.utils.data.random_split(data, [n - v, v])`, which takes a
 * `torch.randperm(n)` from PyTorch's CPU Mersenne Twister. We replay that generator (MT19937,
 * 32-bit outputs) and randperm's swap loop so the 59k/1k MNIST split holds the same images as
 * the reference's (checked against PyTorch 1.13 in the tests).
 */

/** MT19937 as seeded by `torch.manual_seed(seed)`; returns successive 32-bit outputs. */
export function mt19937(seed: number): () => number {
  const N = 624;
  const state = new Uint32Array(N);
  state[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const prev = state[i - 1] ^ (state[i - 1] >>> 30);
    state[i] = (Math.imul(1812433253, prev) + i) >>> 0;
  }
  let next = N;
  return () => {
    if (next >= N) {
      for (let k = 0; k < N; k++) {
        const y = (state[k] & 0x80000000) | (state[(k + 1) % N] & 0x7fffffff);
        state[k] = state[(k + 397) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      next = 0;
    }
    let y = state[next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
}

/** `torch.manual_seed(seed); torch.randperm(n)` on the CPU (PyTorch 1.x algorithm). */
export function torchRandperm(n: number, seed: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const random = mt19937(seed);
  for (let i = 0; i < n - 1; i++) {
    const z = random() % (n - i);
    const t = perm[i];
    perm[i] = perm[i + z];
    perm[i + z] = t;
  }
  return perm;
}

/** Indices of `random_split(range(n), [n - valSize, valSize])` after `torch.manual_seed(seed)`. */
export function torchRandomSplit(n: number, valSize: number, seed = 0): { train: Int32Array; val: Int32Array } {
  const perm = torchRandperm(n, seed);
  return { train: perm.slice(0, n - valSize), val: perm.slice(n - valSize) };
}
