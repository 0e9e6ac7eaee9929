/**
 * Checkpoints in TensorFlow.js's own format: `model.json` (a `modelTopology` describing the
 * CVAE and a `weightsManifest`) plus `weights.bin` written by `tf.io.encodeWeights`, so
 * `tf.io.decodeWeights` reads them back. A training checkpoint adds `trainer.json` (config,
 * progress, history, dataset) and the optimiser state in `optimizer.bin` with its own manifest.
 * Directories are written atomically (see atomic-dir.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../errors';
import { createCVAE } from '../models';
import type { CVAE, ModelSize } from '../models/types';
import { recoverDir, writeDirAtomic, type AtomicWriteHooks } from './atomic-dir';

export const CHECKPOINT_FORMAT = 'pertset-cvae';

/** A tensor with its name, as optimiser state is saved in a checkpoint. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const TRAINER_FILE = 'trainer.json';
export const OPTIMIZER_FILE = 'optimizer.bin';

export interface ModelJson {
  format: typeof CHECKPOINT_FORMAT;
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    architecture: string;
    inputShape: [number, number, number];
    latentDim: number;
    outputDistribution: string;
    /** Size options of an architecture that has them (cifar10_rectangle); absent otherwise. */
    size?: ModelSize;
  };
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** What `trainer.json` holds (plain JSON). */
export interface TrainerStateJson {
  version: 1;
  /** Epoch and step within it that the next optimiser step will be (0-based). */
  epoch: number;
  step: number;
  globalStep: number;
  finished: boolean;
  bestValidationLoss: number | null;
  /** Per-epoch summaries so far. */
  history: unknown[];
  /** Running sums of the unfinished epoch (so its mean is exact after a resume). */
  epochSums: { loss: number; kl: number; recon: number; count: number; seconds: number };
  /** How every random draw is derived: a pure function of (seed, epoch, step); nothing else to save. */
  rng: { seed: number; scheme: string };
  /** Lowest per-step loss seen (divergence detection). */
  lowestLoss?: number | null;
  /** The effective reference-schema config. */
  config: unknown;
  dataset: unknown;
  optimizer: { kind: string; weightsManifest: tf.io.WeightsManifestConfig } | null;
  savedAt: string;
}

const TFJS_VERSION = (tf.version as Record<string, string>)['tfjs-core'] ?? 'unknown';

/**
 * model.json + weights.bin of named variables, as bytes: the one encoding of every model kind
 * (`format` says which: CVAE or classifier; `modelTopology` is what rebuilds the architecture).
 */
export async function encodeVariables(variables: ReadonlyMap<string, tf.Variable>, format: string, modelTopology: object): Promise<Array<[string, Uint8Array | string]>> {
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of variables) named[name] = v;
  const { data, specs } = await tf.io.encodeWeights(named);
  const json = {
    format,
    generatedBy: `pertset (TensorFlow.js ${TFJS_VERSION})`,
    convertedBy: null,
    modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  return [
    [WEIGHTS_FILE, new Uint8Array(data)],
    [MODEL_FILE, JSON.stringify(json, null, 1)],
  ];
}

/** model.json + weights.bin of a CVAE's variables, as bytes. */
export async function encodeModel(model: CVAE): Promise<Array<[string, Uint8Array | string]>> {
  const topology: ModelJson['modelTopology'] = {
    architecture: model.architecture,
    inputShape: model.inputShape,
    latentDim: model.latentDim,
    outputDistribution: model.outputDistribution,
    ...(model.size ? { size: { ...model.size } } : {}),
  };
  return encodeVariables(model.variables, CHECKPOINT_FORMAT, topology);
}

/**
 * A training checkpoint's extra files: the optimiser state (`optimizer.bin`, first) and
 * `trainer.json` (last: a directory with it is a complete training checkpoint), around `modelFiles`.
 */
export async function withTrainerFiles(
  modelFiles: Array<[string, Uint8Array | string]>,
  trainer: object,
  optimizer?: { kind: string; state: NamedTensor[] },
): Promise<Array<[string, Uint8Array | string]>> {
  const files = modelFiles.slice();
  let optimizerJson: TrainerStateJson['optimizer'] = null;
  if (optimizer) {
    const named: tf.NamedTensorMap = {};
    for (const t of optimizer.state) named[t.name] = t.tensor;
    const { data, specs } = await tf.io.encodeWeights(named);
    files.unshift([OPTIMIZER_FILE, new Uint8Array(data)]);
    optimizerJson = { kind: optimizer.kind, weightsManifest: [{ paths: [OPTIMIZER_FILE], weights: specs }] };
  }
  files.push([TRAINER_FILE, JSON.stringify({ ...trainer, optimizer: optimizerJson, savedAt: new Date().toISOString() }, null, 1)]);
  return files;
}

export interface SaveCheckpointArgs {
  model: CVAE;
  trainer?: Omit<TrainerStateJson, 'optimizer' | 'savedAt'>;
  optimizer?: { kind: string; state: NamedTensor[] };
  hooks?: AtomicWriteHooks;
}

/** Writes a checkpoint directory atomically. */
export async function saveCheckpoint(dir: string, args: SaveCheckpointArgs): Promise<void> {
  const model = await encodeModel(args.model);
  const files = args.trainer ? await withTrainerFiles(model, args.trainer, args.optimizer) : model;
  writeDirAtomic(dir, files, args.hooks);
}

/** A JSON file an earlier step saved, or null when it is missing or unreadable (the caller then computes it again). */
export function readJsonOrNull<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CheckpointError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

export function readWeights(dir: string, manifest: tf.io.WeightsManifestConfig, what: string): tf.NamedTensorMap {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new CheckpointError(`${what}: weights file ${file} is missing`);
      buffers.push(fs.readFileSync(file));
    }
    specs.push(...group.weights);
  }
  const bytes = Buffer.concat(buffers);
  const expected = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (s.dtype === 'float32' || s.dtype === 'int32' ? 4 : s.dtype === 'bool' ? 1 : 4), 0);
  if (bytes.length !== expected) throw new CheckpointError(`${what}: weights hold ${bytes.length} bytes, the manifest describes ${expected}`);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.io.decodeWeights(ab, specs);
}

/**
 * Reads `model.json` of a checkpoint directory (recovering an interrupted swap first) and checks
 * it is a checkpoint of `format`; `kind` names it in the error ("CVAE", "classifier").
 */
export function readCheckpointJson<T extends { format: string; modelTopology: unknown; weightsManifest: unknown }>(dir: string, format: T['format'], kind: string): T {
  recoverDir(dir);
  const file = path.join(dir, MODEL_FILE);
  if (!fs.existsSync(file)) throw new CheckpointError(`no checkpoint in ${dir} (missing ${MODEL_FILE})`);
  const json = readJson<T>(file);
  if (json.format !== format || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new CheckpointError(`${file}: not a pertset ${kind} checkpoint (format "${String(json.format)}", expected "${format}")`);
  }
  return json;
}

/** Reads `model.json` of a CVAE checkpoint directory. */
export function readModelJson(dir: string): ModelJson {
  return readCheckpointJson<ModelJson>(dir, CHECKPOINT_FORMAT, 'CVAE');
}

/** Copies a checkpoint's weights into `model` (names and shapes must match exactly). */
export function loadWeightsInto(model: CVAE, dir: string): void {
  const json = readModelJson(dir);
  if (json.modelTopology.architecture !== model.architecture) {
    throw new CheckpointError(`${dir}: checkpoint is a ${json.modelTopology.architecture} model, cannot load into ${model.architecture}`);
  }
  assignWeights(model.variables, dir, json.weightsManifest);
}

/** Reads the weights a manifest describes and assigns them to `variables` (names and shapes must match exactly). */
export function assignWeights(variables: ReadonlyMap<string, tf.Variable>, dir: string, manifest: tf.io.WeightsManifestConfig): void {
  const weights = readWeights(dir, manifest, dir);
  try {
    for (const [name, v] of variables) {
      const t = weights[name];
      if (!t) throw new CheckpointError(`${dir}: weight "${name}" is missing from the checkpoint`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) throw new CheckpointError(`${dir}: weight "${name}" has shape [${t.shape}], the model has [${v.shape}]`);
    }
    const extra = Object.keys(weights).filter((n) => !variables.has(n));
    if (extra.length) throw new CheckpointError(`${dir}: checkpoint has weights the model lacks: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
    for (const [name, v] of variables) v.assign(weights[name]);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** Builds the checkpoint's architecture and loads its weights. */
export function loadModel(dir: string): CVAE {
  const json = readModelJson(dir);
  const model = createCVAE(json.modelTopology.architecture, { size: json.modelTopology.size ?? null });
  try {
    loadWeightsInto(model, dir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** `trainer.json` of a training checkpoint, or null when the directory is a bare model. */
export function readTrainerState(dir: string): TrainerStateJson | null {
  recoverDir(dir);
  const file = path.join(dir, TRAINER_FILE);
  if (!fs.existsSync(file)) return null;
  const s = readJson<TrainerStateJson>(file);
  if (s.version !== 1) throw new CheckpointError(`${file}: unsupported trainer state version ${String(s.version)}`);
  return s;
}

/** The optimiser state saved with a training checkpoint (caller disposes), or null. */
export function readOptimizerState(dir: string, state: TrainerStateJson): NamedTensor[] | null {
  if (!state.optimizer) return null;
  const map = readWeights(dir, state.optimizer.weightsManifest, `${dir} optimizer state`);
  return Object.entries(map).map(([name, tensor]) => ({ name, tensor }));
}

/** True when `dir` holds a checkpoint (after recovering an interrupted swap). */
export function checkpointExists(dir: string): boolean {
  recoverDir(dir);
  return fs.existsSync(path.join(dir, MODEL_FILE));
}
