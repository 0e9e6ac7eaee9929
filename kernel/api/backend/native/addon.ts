/**
 * Loading the native addon (`kernel/native/build/Release/pertset_native.node`, built by
 * `scripts/build-native.mjs`) and its typed interface. Loading never throws: a missing or broken
 * build is reported as a reason string so the caller can fall back to plain wasm.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Any memory the addon can read: the wasm heap (`HEAPU8`), a Float32Array, an ArrayBuffer. */
export type NativeBuffer = ArrayBuffer | ArrayBufferView;

/**
 * The addon's functions. Offsets are BYTES into the buffer, sizes and strides are float32
 * ELEMENTS; a batch stride of 0 broadcasts. Every region is bounds-checked (RangeError).
 */
export interface NativeAddon {
  /** Row-major batched `C = alpha·op(A)·op(B) + beta·C`; A is M×K (K×M transposed), B is K×N (N×K), C is M×N. */
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: NativeBuffer, aOffset: number, B: NativeBuffer, bOffset: number, beta: number, C: NativeBuffer, cOffset: number,
    batch?: number, strideA?: number, strideB?: number, strideC?: number,
  ): void;
  /** In place on rows×cols at cOffset: + bias (length 0 = none, 1 or cols), then the activation (wasm FusableActivation code). */
  epilogue(
    buf: NativeBuffer, cOffset: number, rows: number, cols: number, biasOffset: number, biasLength: number,
    activation: number, leakyreluAlpha: number, preluOffset: number, preluLength: number,
  ): void;
  /** NHWC conv: y[n·oh·ow, co] = im2col(x)·filter[kh·kw·ci, co]. */
  conv2d(buf: NativeBuffer, xOffset: number, filterOffset: number, yOffset: number, ...geometryAndOutChannels: number[]): void;
  /** dx = col2im(dy·filterᵀ) for the forward conv described by the geometry. */
  conv2dBackpropInput(buf: NativeBuffer, dxOffset: number, filterOffset: number, dyOffset: number, ...geometryAndOutChannels: number[]): void;
  /** dFilter = im2col(x)ᵀ·dy. */
  conv2dBackpropFilter(buf: NativeBuffer, xOffset: number, dFilterOffset: number, dyOffset: number, ...geometryAndOutChannels: number[]): void;
  /**
   * Direct NHWC conv for few channels (stride 1, no dilation), same arguments as conv2d plus the
   * mode: 0 forward (x → y), 1 backprop input (dy in y's place → dx in x's), 2 backprop filter.
   */
  conv2dDirect(buf: NativeBuffer, xOffset: number, filterOffset: number, yOffset: number, ...geometryOutChannelsAndMode: number[]): void;
  /**
   * The big tensor is rows × Σ widths, piece i rows × widths[i] (all float32 on `buf`): split
   * false copies the pieces into it side by side (concat), true copies them out (split).
   */
  im2col(src: NativeBuffer, srcOffset: number, dst: NativeBuffer, dstOffset: number, ...geometry: number[]): void;
  /** Overwrites dst with the sum of the patches (adjoint of im2col). */
  col2im(src: NativeBuffer, srcOffset: number, dst: NativeBuffer, dstOffset: number, ...geometry: number[]): void;
  /**
   * One Adam update over equal-length Float32Arrays (any buffers): m and v in place, new weights
   * into `out`; the formula of `jsAdamStep` (kernel/api/backend/adam.ts) evaluated in float32.
   */
  adam(
    weights: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array,
    learningRate: number, beta1: number, beta2: number, epsilon: number, biasCorrection1: number, biasCorrection2: number,
  ): void;
  /** dst[j] = Σ_i src[i, j]. */
  colSum(buf: NativeBuffer, srcOffset: number, rows: number, cols: number, dstOffset: number): void;
  /** dx = 0, then each pooled output's dy added at the first maximum of its window (tfjs's rule). */
  maxPoolGrad(
    buf: NativeBuffer, xOffset: number, dyOffset: number, dxOffset: number, batch: number, inHeight: number, inWidth: number,
    channels: number, outHeight: number, outWidth: number, filterHeight: number, filterWidth: number,
    strideHeight: number, strideWidth: number, padTop: number, padLeft: number,
  ): void;
  /** Gradient of nearest upsampling by integer factors: dx[n, i, j] = Σ dy over its factorY×factorX block. */
  resizeNearestGrad(buf: NativeBuffer, dyOffset: number, dxOffset: number, batch: number, inHeight: number, inWidth: number,
    channels: number, factorY: number, factorX: number): void;
  /** dst[r, 0:cols] = src[r, 0:cols] for `rows` rows, `srcStride` / `dstStride` floats apart. */
  copyBlock(buf: NativeBuffer, srcOffset: number, srcStride: number, dstOffset: number, dstStride: number, rows: number, cols: number): void;
  setNumThreads(n: number): number;
  info(): { blas: string; config: string; core: string; threads: number; openmp: number; abi: number };
}

/**
 * NHWC conv geometry in the order the addon takes it (after the buffer/offset arguments).
 * The filter is [filterHeight, filterWidth, inChannels, outChannels].
 */
export interface ConvGeometry {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  filterHeight: number; filterWidth: number; strideHeight: number; strideWidth: number;
  padTop: number; padLeft: number; dilationHeight: number; dilationWidth: number;
  outHeight: number; outWidth: number;
}

export function geometryArgs(g: ConvGeometry): number[] {
  return [g.batch, g.inHeight, g.inWidth, g.inChannels, g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth,
    g.padTop, g.padLeft, g.dilationHeight, g.dilationWidth, g.outHeight, g.outWidth];
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

const ADDON_FILE = path.join('kernel', 'native', 'build', 'Release', 'pertset_native.node');

/** The package root: the nearest ancestor holding kernel/native (works from kernel/ and dist/kernel/). */
function packageRoot(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'kernel', 'native', 'binding.gyp'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/**
 * Environment read once by OpenBLAS and libgomp when the addon loads. Set only for the load and
 * then restored, so child processes (e.g. the PyTorch reference) see the user's environment.
 *  - OPENBLAS_CORETYPE: OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs (e.g. AMD Zen 4)
 *    and falls back to its AVX2 "Haswell" kernels; SkylakeX is chosen when the CPU has every
 *    AVX-512 subset those kernels use (otherwise: illegal instruction). A user setting wins.
 *  - GOMP_SPINCOUNT: libgomp's idle threads spin ~300k iterations before sleeping. On a busy
 *    machine a spinning thread holds the core its partner needs, and 2-thread BLAS calls then
 *    stall for whole scheduler slices (10x slower steps measured here); a short spin keeps most
 *    of the low-latency benefit. Not touched when OMP_WAIT_POLICY or GOMP_SPINCOUNT is set.
 */
function loadEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.platform !== 'linux') return env;
  if (process.env.OPENBLAS_CORETYPE === undefined) {
    try {
      const flags = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m) ?? ['', ''])[1].split(/\s+/);
      if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512cd'].every((f) => flags.includes(f))) env.OPENBLAS_CORETYPE = 'SkylakeX';
    } catch {
      /* not readable: keep OpenBLAS's own choice */
    }
  }
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) env.GOMP_SPINCOUNT = SPIN_COUNT;
  return env;
}

const SPIN_COUNT = '10000';

let appliedEnvironment: Record<string, string> = {};

/**
 * The variables set while the addon loaded (e.g. GOMP_SPINCOUNT). A benchmark can give them to
 * its PyTorch reference process so both sides run OpenMP/OpenBLAS with the same settings.
 */
export function nativeLoadEnvironment(): Record<string, string> {
  return { ...appliedEnvironment };
}

function requireWithEnvironment(file: string): NativeAddon {
  const env = loadEnvironment();
  appliedEnvironment = env;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return require(file) as NativeAddon;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let cached: AddonLoad | null = null;

/** Loads the addon once. `PERTSET_NATIVE_ADDON` may name another .node file. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const root = packageRoot();
  const file = process.env.PERTSET_NATIVE_ADDON ?? (root ? path.join(root, ADDON_FILE) : null);
  if (!file || !fs.existsSync(file)) {
    cached = { addon: null, reason: `addon not built (${file ?? ADDON_FILE} missing; run npm run build:native)` };
    return cached;
  }
  try {
    const addon = requireWithEnvironment(file);
    if (typeof addon.sgemm !== 'function' || addon.info().abi !== 1) {
      cached = { addon: null, reason: `addon at ${file} is from another version; rebuild with npm run build:native` };
    } else {
      cached = { addon, path: file };
    }
  } catch (e) {
    cached = { addon: null, reason: `addon failed to load (${(e as Error).message.split('\n')[0]})` };
  }
  return cached;
}

/** Default BLAS threads: the cores this process may use. */
export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

let active: NativeAddon | null = null;

/** The addon while the accelerator is active (set by tryInstallNativeAccelerator). */
export function activeAddon(): NativeAddon | null {
  return active;
}

export function setActiveAddon(addon: NativeAddon | null): void {
  active = addon;
}
