/**
 * Importing a PyTorch CVAE checkpoint (the reference's `checkpoint_*.pth`, or a bare state_dict)
 * as a pertset run directory. Two steps, so the TypeScript side never parses pickles:
 *   1. `scripts/torch/export_state_dict.py CKPT.pth DIR` (run here automatically when given a
 *      `.pth`/`.pt` file; needs Python with torch) writes the exchange format (torch-format.ts);
 *   2. the tensors are checked against the architecture and loaded; the run directory receives
 *      `checkpoints/latest` (TensorFlow.js's `model.json` + `weights.bin`, written atomically by
 *      runs/checkpoint), `config.json` and `run.json`, so `pertset radius|eval --run DIR` work.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../config/load';
import { ArgumentError, CheckpointError } from '../errors';
import { ensureDir } from '../output-dir';
import { ARCHITECTURES, createCVAE, isArchitectureName } from '../models';
import type { ArchitectureName, CVAE, ModelSize } from '../models/types';
import { saveCheckpoint } from '../runs/checkpoint';
import { writeRunRecord } from '../runs/run-record';
import { readTorchWeights, type TorchTensors } from './torch-format';
import { inferArchitecture, inferModelSize, loadTorchTensors } from './torch-state-dict';

/** The shipped config recorded for an imported model of each architecture (override with `config`). */
export const DEFAULT_IMPORT_CONFIG: Record<ArchitectureName, string> = {
  mnist_fc: 'mnist_fc_linf',
  mnist_conv: 'mnist_conv_linf',
  mnist_stn: 'mnist_stn_rts',
  cifar10_rectangle: 'cifar10_c_rectangle',
};

export interface ImportTorchOptions {
  /** A weights directory (manifest.json + weights.bin), its manifest.json, or a `.pth`/`.pt` file. */
  weights: string;
  /** Architecture; default inferred from the keys. */
  architecture?: ArchitectureName | string;
  /** Run directory to write. */
  out: string;
  /** Shipped config name or reference-schema file recorded with the run (default per architecture). */
  config?: string;
  /** Python with torch for `.pth` input (default `PERTSET_PYTHON` or `python3`). */
  python?: string;
}

export interface ImportTorchResult {
  architecture: ArchitectureName;
  /** Number of tensors loaded (= model variables). */
  tensors: number;
  params: number;
  /** The run directory and the checkpoint written in it. */
  out: string;
  checkpointDir: string;
  config: string;
}

/** Path of the export script shipped with the package. */
export function exportScriptPath(): string {
  // dist/kernel/api/interop → package root (the script is not compiled).
  return path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'torch', 'export_state_dict.py');
}

function isPickle(p: string): boolean {
  return fs.statSync(p).isFile() && !p.endsWith('.json');
}

/** Runs export_state_dict.py on a `.pth` into a temporary directory and reads it. */
function convertPth(file: string, python: string): TorchTensors {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-import-'));
  try {
    const r = spawnSync(python, [exportScriptPath(), file, tmp], { encoding: 'utf8' });
    if (r.error) {
      throw new CheckpointError(`${file}: cannot run ${python} to read the PyTorch checkpoint (${r.error.message}); set PERTSET_PYTHON to a Python with torch, or convert it first with scripts/torch/export_state_dict.py`);
    }
    if (r.status !== 0) {
      throw new CheckpointError(`${file}: scripts/torch/export_state_dict.py failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }
    return readTorchWeights(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Builds a CVAE from PyTorch weights (a weights directory, its manifest, or a `.pth` file).
 * The caller disposes the model.
 */
export function loadTorchModel(weights: string, options: { architecture?: string; python?: string } = {}): CVAE {
  if (!fs.existsSync(weights)) throw new ArgumentError(`weights path ${weights}: no such file or directory`);
  const python = options.python ?? process.env.PERTSET_PYTHON ?? 'python3';
  const tensors = isPickle(weights) ? convertPth(weights, python) : readTorchWeights(weights);
  let architecture: ArchitectureName;
  if (options.architecture !== undefined) {
    if (!isArchitectureName(options.architecture)) {
      throw new ArgumentError(`architecture "${options.architecture}" is not one of ${ARCHITECTURES.join(', ')}`);
    }
    architecture = options.architecture;
  } else {
    const inferred = inferArchitecture(tensors.keys());
    if (!inferred) throw new CheckpointError(`${weights}: cannot tell the architecture from its keys; pass the architecture (--arch)`);
    architecture = inferred;
  }
  // cifar10_rectangle's sizes (width, latent, blocks) are read from the tensors' shapes.
  const size = architecture === 'cifar10_rectangle' ? inferModelSize(tensors, weights) : null;
  const model = createCVAE(architecture, { size });
  try {
    loadTorchTensors(model, tensors, weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

function sizeDifference(weights: Readonly<ModelSize>, config: Readonly<ModelSize>): string[] {
  return (Object.keys(weights) as Array<keyof ModelSize>)
    .filter((k) => weights[k] !== config[k])
    .map((k) => `${k}: weights ${weights[k]}, config ${config[k]}`);
}

/** Imports PyTorch weights as a run directory (see the module comment). */
export async function importTorchCheckpoint(options: ImportTorchOptions): Promise<ImportTorchResult> {
  const out = path.resolve(options.out);
  const checkpointDir = path.join(out, 'checkpoints', 'latest');
  if (fs.existsSync(checkpointDir)) {
    throw new ArgumentError(`--out ${options.out} already holds a run (${checkpointDir}); choose a new directory`);
  }
  ensureDir(out, 'run folder');
  const model = loadTorchModel(options.weights, options);
  try {
    const configName = options.config ?? DEFAULT_IMPORT_CONFIG[model.architecture];
    const config = loadConfig(configName);
    if (config.model.architecture !== model.architecture) {
      throw new ArgumentError(`config ${configName} is for ${config.model.architecture}, the weights are a ${model.architecture} model`);
    }
    const differs = model.size && config.model.size ? sizeDifference(model.size, config.model.size) : [];
    if (differs.length) {
      throw new ArgumentError(`config ${configName} describes a different ${model.architecture} than the weights (${differs.join('; ')}); pass a config with the weights' sizes (--config)`);
    }
    await saveCheckpoint(checkpointDir, { model });
    fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(config.json, null, 2));
    const now = new Date().toISOString();
    writeRunRecord(out, {
      version: 1,
      name: config.name,
      configSource: config.source,
      config: config.json,
      seed: config.seed,
      backend: null,
      dataset: { train: null, val: null },
      status: 'finished',
      epoch: config.training.epochs,
      globalStep: 0,
      message: `imported from PyTorch weights ${path.resolve(options.weights)}`,
      createdAt: now,
      updatedAt: now,
    });
    return {
      architecture: model.architecture, tensors: model.variables.size, params: model.countParams(), out, checkpointDir, config: config.source,
    };
  } finally {
    model.dispose();
  }
}
