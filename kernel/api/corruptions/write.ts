/**
 * `writeCorruptedCopy`: the test split of CIFAR-10 or MNIST, corrupted, written in the dataset's
 * own format so the ordinary loaders read it back: `OUT/<corruption>/<severity>/test_batch.bin`
 * (CIFAR-10 binary records) or `t10k-images-idx3-ubyte` + `t10k-labels-idx1-ubyte` (IDX), with a
 * `corruption.json` describing what was done. Values are stored as the reference generators store
 * them: clipped to [0, 1], ×255 and truncated to uint8.
 *
 * Everything is checked before anything is written (arguments, the input files, the frost
 * overlays when `frost` is asked for), and each severity folder appears atomically, so a failure
 * leaves no partial output.
 */
import * as path from 'path';
import { ArgumentError } from '../errors';
import { CIFAR_RECORD_BYTES, readCifarBinary } from '../data/cifar-binary';
import { DATASETS } from '../data/catalog';
import { contentSha256 } from '../data/file-bytes';
import { readIdxImagesAndLabels } from '../data/idx';
import { locateDataset } from '../data/locate';
import { writeDirAtomic } from '../runs/atomic-dir';
import { Corrupter, checkCorruption, checkSeverity, SEVERITIES } from './corrupter';
import { locateFrost } from './frost';
import type { SuiteName } from './suites';

export const CORRUPTIBLE_DATASETS = { cifar10: 'cifar10c', mnist: 'mnistc' } as const satisfies Record<string, SuiteName>;
export type CorruptibleDataset = keyof typeof CORRUPTIBLE_DATASETS;

export interface CorruptedCopyCallbacks {
  /** After each chunk of images: `done` of `total` images over all (corruption, severity) pairs. */
  onProgress?(p: { done: number; total: number; corruption: string; severity: number }): void;
}

export interface CorruptedCopyOptions {
  dataset: CorruptibleDataset | string;
  /** Corruption names of the dataset's suite, or `all`. */
  corruptions: string[] | 'all';
  /** Severities 1–5, or `all`. */
  severities: number[] | 'all';
  out: string;
  /** Data folder (as `--data`): the dataset's files, or a root with `cifar10/`, `mnist/`, `frost/`. */
  data?: string;
  /** Default 0. */
  seed?: number;
  /** Only the first N test images. */
  limit?: number;
  callbacks?: CorruptedCopyCallbacks;
}

export interface CorruptedCopyResult {
  suite: SuiteName;
  /** The folders written, `OUT/<corruption>/<severity>`. */
  folders: string[];
  images: number;
  source: string[];
}

const CHUNK = 100;

function u8(v: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  // Truncation like np.uint8; the epsilon keeps exact k/255 values at k despite float32 rounding.
  return Math.floor(c * 255 + 1e-4);
}

function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x00000800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

export function writeCorruptedCopy(options: CorruptedCopyOptions): CorruptedCopyResult {
  const dataset = options.dataset as CorruptibleDataset;
  if (!(dataset in CORRUPTIBLE_DATASETS)) {
    throw new ArgumentError(`unknown dataset "${options.dataset}" for corruption; expected one of ${Object.keys(CORRUPTIBLE_DATASETS).join(', ')}`);
  }
  const corrupter = new Corrupter(CORRUPTIBLE_DATASETS[dataset], { frostDir: options.data });
  const suite = corrupter.suite;
  const names = options.corruptions === 'all' ? [...suite.names] : options.corruptions;
  if (names.length === 0) throw new ArgumentError('no corruption given');
  for (const n of names) checkCorruption(suite, n);
  const severities = options.severities === 'all' ? [...SEVERITIES] : options.severities;
  if (severities.length === 0) throw new ArgumentError('no severity given');
  for (const s of severities) checkSeverity(s);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ArgumentError(`seed must be an integer, got ${seed}`);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) throw new ArgumentError(`limit must be an integer >= 1, got ${options.limit}`);
  if (!options.out) throw new ArgumentError('an output folder is required');

  // Read and check the input (and the frost overlays) before writing anything.
  const located = locateDataset(dataset, { dir: options.data, fallback: false });
  const spec = DATASETS[dataset];
  const testFiles = spec.testFiles.filter((f) => located.files[f]).map((f) => located.files[f]);
  let images: Uint8Array;
  let labels: Uint8Array;
  let h: number;
  let w: number;
  let c: number;
  if (spec.format === 'cifar-binary') {
    const r = readCifarBinary(testFiles[0]);
    [images, labels, h, w, c] = [r.images, r.labels, 32, 32, 3];
  } else {
    const r = readIdxImagesAndLabels(testFiles[0], testFiles[1]);
    [images, labels, h, w, c] = [r.images, r.labels, r.height, r.width, 1];
  }
  if (names.includes('frost')) locateFrost({ dir: options.data });
  const count = Math.min(labels.length, options.limit ?? Infinity);
  const size = h * w * c;
  const x = new Float32Array(count * size);
  for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
  const source = testFiles.map((f) => path.resolve(f));
  const sha256 = Object.fromEntries(testFiles.map((f) => [path.basename(f), contentSha256(f)]));

  const total = names.length * severities.length * count;
  let done = 0;
  const folders: string[] = [];
  for (const name of names) {
    for (const severity of severities) {
      const bytes = new Uint8Array(count * size);
      for (let start = 0; start < count; start += CHUNK) {
        const end = Math.min(count, start + CHUNK);
        const xs = Array.from({ length: end - start }, (_, k) => x.subarray((start + k) * size, (start + k + 1) * size));
        corrupter.applyMany(xs, [h, w, c], name, severity, (k) => corrupter.rngFor(seed, name, severity, start + k)).forEach((xt, k) => {
          for (let i = 0; i < size; i++) bytes[(start + k) * size + i] = u8(xt[i]);
        });
        done += end - start;
        options.callbacks?.onProgress?.({ done, total, corruption: name, severity });
      }
      const files: Array<[string, Uint8Array | string]> = [];
      if (spec.format === 'cifar-binary') {
        const plane = h * w;
        const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
        for (let n = 0; n < count; n++) {
          const rec = n * CIFAR_RECORD_BYTES;
          out[rec] = labels[n];
          for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) out[rec + 1 + ch * plane + p] = bytes[n * size + p * 3 + ch];
        }
        files.push(['test_batch.bin', out]);
      } else {
        files.push(['t10k-images-idx3-ubyte', idxBytes([count, h, w], bytes)], ['t10k-labels-idx1-ubyte', idxBytes([count], labels.slice(0, count))]);
      }
      const cs = suite.corruptions[name];
      const record = {
        dataset,
        split: 'test',
        suite: suite.name,
        corruption: name,
        family: cs.family,
        heldOut: suite.heldOut.includes(name),
        severity,
        parameters: cs.levels[severity - 1],
        seed,
        images: count,
        source: Object.fromEntries(source.map((s) => [s, sha256[path.basename(s)]])),
        storage: 'clipped to [0, 1], x255, truncated to uint8',
      };
      files.push(['corruption.json', `${JSON.stringify(record, null, 2)}\n`]);
      const folder = path.join(path.resolve(options.out), name, String(severity));
      writeDirAtomic(folder, files);
      folders.push(folder);
    }
  }
  return { suite: suite.name, folders, images: count, source };
}
