/** Plain-JS references and comparison helpers for the native tests (double-precision sums). */

/** Deterministic pseudo-random values in [-1, 1) (a small LCG; no backend involved). */
export function randomValues(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** Integer in [lo, hi] from a seed stream. */
export function makeInts(seed: number): (lo: number, hi: number) => number {
  let s = (seed * 40503 + 7) >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
}

/** Normwise relative error max|got - want| / max(1e-12, max|want|). */
export function normRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0, scale = 1e-12;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

/** Row-major C = op(A)·op(B), one matrix. */
export function matmulRef(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number,
  M: number, N: number, K: number, tA: boolean, tB: boolean): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[aOff + (tA ? k * M + i : i * K + k)] * b[bOff + (tB ? j * K + k : k * N + j)];
      c[i * N + j] = s;
    }
  return c;
}

export interface Geometry {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  filterHeight: number; filterWidth: number; strideHeight: number; strideWidth: number;
  padTop: number; padLeft: number; dilationHeight: number; dilationWidth: number;
  outHeight: number; outWidth: number;
}

/** NHWC conv with filter [kh, kw, ci, co], explicit top/left padding, strides and dilations. */
export function convRef(x: ArrayLike<number>, w: ArrayLike<number>, g: Geometry, co: number): Float64Array {
  const out = new Float64Array(g.batch * g.outHeight * g.outWidth * co);
  for (let b = 0; b < g.batch; b++)
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++)
        for (let ky = 0; ky < g.filterHeight; ky++) {
          const iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight;
          if (iy < 0 || iy >= g.inHeight) continue;
          for (let kx = 0; kx < g.filterWidth; kx++) {
            const ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth;
            if (ix < 0 || ix >= g.inWidth) continue;
            for (let ci = 0; ci < g.inChannels; ci++) {
              const xv = x[((b * g.inHeight + iy) * g.inWidth + ix) * g.inChannels + ci];
              for (let o = 0; o < co; o++) {
                out[((b * g.outHeight + oy) * g.outWidth + ox) * co + o] += xv * w[((ky * g.filterWidth + kx) * g.inChannels + ci) * co + o];
              }
            }
          }
        }
  return out;
}

export function geometryArgs(g: Geometry): number[] {
  return [g.batch, g.inHeight, g.inWidth, g.inChannels, g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth,
    g.padTop, g.padLeft, g.dilationHeight, g.dilationWidth, g.outHeight, g.outWidth];
}
