/**
 * The on-disk exchange format between PyTorch and pertset: a directory holding
 *
 *   manifest.json  {"format": "pertset-torch-state-dict", "version": 1,
 *                   "tensors": [{"key": "prior.fc1.weight", "dtype": "float32",
 *                                "shape": [784, 784], "offset": 0}, ...],
 *                   "source": "<optional note: where the tensors came from>"}
 *   weights.bin    the tensors' values, float32 little-endian, C-contiguous, each at its byte
 *                  `offset`
 *
 * Keys and layouts are PyTorch's: state_dict keys, Linear weights [out, in], conv weights
 * [out, in, kh, kw], images NCHW. `scripts/torch/export_state_dict.py` writes it from a `.pth`;
 * `scripts/torch/pertset_weights.py` reads and writes it from Python.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { ensureDir } from '../output-dir';

export const TORCH_WEIGHTS_FORMAT = 'pertset-torch-state-dict';
export const TORCH_MANIFEST_FILE = 'manifest.json';
export const TORCH_WEIGHTS_FILE = 'weights.bin';

export interface TorchTensorEntry {
  key: string;
  dtype: 'float32';
  shape: number[];
  /** Byte offset into weights.bin. */
  offset: number;
}

export interface TorchWeightsManifest {
  format: typeof TORCH_WEIGHTS_FORMAT;
  version: 1;
  tensors: TorchTensorEntry[];
  source?: string;
}

/** One tensor in PyTorch layout. */
export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

export type TorchTensors = Map<string, TorchTensor>;

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Resolves a directory or a path to its manifest.json into the manifest path. */
export function torchManifestPath(dirOrManifest: string): string {
  if (fs.existsSync(dirOrManifest) && fs.statSync(dirOrManifest).isDirectory()) {
    return path.join(dirOrManifest, TORCH_MANIFEST_FILE);
  }
  return dirOrManifest;
}

/** Reads a weights directory (or its manifest.json) into a key → tensor map, in file order. */
export function readTorchWeights(dirOrManifest: string): TorchTensors {
  const manifestPath = torchManifestPath(dirOrManifest);
  if (!fs.existsSync(manifestPath)) {
    throw new CheckpointError(`${manifestPath}: not found (expected a directory written by scripts/torch/export_state_dict.py, holding ${TORCH_MANIFEST_FILE} and ${TORCH_WEIGHTS_FILE})`);
  }
  let manifest: TorchWeightsManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as TorchWeightsManifest;
  } catch (e) {
    throw new CheckpointError(`${manifestPath}: invalid JSON (${(e as Error).message})`);
  }
  if (manifest.format !== TORCH_WEIGHTS_FORMAT || manifest.version !== 1 || !Array.isArray(manifest.tensors)) {
    throw new CheckpointError(`${manifestPath}: not a ${TORCH_WEIGHTS_FORMAT} v1 manifest (format "${String(manifest.format)}", version ${String(manifest.version)})`);
  }
  const binPath = path.join(path.dirname(manifestPath), TORCH_WEIGHTS_FILE);
  if (!fs.existsSync(binPath)) throw new CheckpointError(`${binPath}: missing (the manifest's tensor data)`);
  const bytes = fs.readFileSync(binPath);
  const out: TorchTensors = new Map();
  for (const [i, e] of manifest.tensors.entries()) {
    const where = `${manifestPath}: tensors[${i}] ("${String(e.key)}")`;
    if (typeof e.key !== 'string' || !Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(`${where}: needs a string key and a shape of non-negative integers`);
    }
    if (e.dtype !== 'float32') throw new CheckpointError(`${where}: dtype "${String(e.dtype)}" is not supported (float32 only)`);
    const n = sizeOf(e.shape);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset + 4 * n > bytes.length) {
      throw new CheckpointError(`${where}: bytes ${e.offset}..${e.offset + 4 * n} lie outside ${binPath} (${bytes.length} bytes)`);
    }
    if (out.has(e.key)) throw new CheckpointError(`${where}: key appears twice`);
    out.set(e.key, { shape: e.shape, data: decodeFloat32LE(bytes, e.offset, n) });
  }
  return out;
}

/** Writes tensors (PyTorch layout) as manifest.json + weights.bin into `dir` (created if needed). */
export function writeTorchWeights(dir: string, tensors: Iterable<[string, TorchTensor]>, source?: string): void {
  ensureDir(dir, 'weights folder');
  const entries: TorchTensorEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [key, t] of tensors) {
    if (t.data.length !== sizeOf(t.shape)) {
      throw new CheckpointError(`tensor "${key}": ${t.data.length} values do not fill shape [${t.shape}]`);
    }
    entries.push({ key, dtype: 'float32', shape: t.shape, offset });
    chunks.push(encodeFloat32LE(t.data));
    offset += 4 * t.data.length;
  }
  const manifest: TorchWeightsManifest = { format: TORCH_WEIGHTS_FORMAT, version: 1, tensors: entries };
  if (source) manifest.source = source;
  fs.writeFileSync(path.join(dir, TORCH_WEIGHTS_FILE), Buffer.concat(chunks));
  fs.writeFileSync(path.join(dir, TORCH_MANIFEST_FILE), JSON.stringify(manifest, null, 1));
}

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

function decodeFloat32LE(bytes: Buffer, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * n));
  } else {
    for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(offset + 4 * i);
  }
  return out;
}

function encodeFloat32LE(data: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const b = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], 4 * i);
  return b;
}
