/**
 * Robust-training configs in the reference repository's `configs_robust` schema: `model` (the
 * classifier), `attack` (how each training batch is built from the learned set), `training`,
 * `eval`, `dataset`, plus `perturbation` (the CVAE configs' section: the real perturbation that
 * `sample_aug` trains on). Every problem is a `ConfigError` naming its JSON path.
 *
 * `attack.checkpoint` names the CVAE: the reference's `.pth` path maps onto our run folders
 * (`resolveCvaeCheckpoint`): `experiments/<run>/checkpoints/checkpoint_latest.pth` → run folder
 * `experiments/<run>`, checkpoint "latest" (`_best` → "best", `_N` → `epoch-(N+1)`, the reference
 * numbering epochs from 0); a run folder or a checkpoint folder inside one is taken as is.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CLASSIFIER_ARCHITECTURES, type ClassifierArchitecture } from '../classifiers/types';
import { REFERENCE_DATASET_TYPES } from '../data/load';
import { ConfigError } from '../errors';
import { ARCHITECTURES } from '../models/types';
import { RUN_FILE, runDirIdentity } from '../runs/run-record';
import { applyCommonOverrides, num, oneOf, perturbationSpec, section, type Json } from './from-reference';
import { readJsonFile } from './load';
import { piecewiseLinear } from './schedules';
import type { ConfigOverrides, DatasetSection, PerturbationSpec, TrainingSection } from './types';

/** `attack.type`: what each training batch is made of (the reference's robust training). */
export const ROBUST_TRAINING_METHODS = ['none', 'sample_aug', 'cvae_aug', 'cvae_attack', 'cvae_gaussian'] as const;
export type RobustTrainingMethod = (typeof ROBUST_TRAINING_METHODS)[number];

/** `dataset.type` a robust config may train on, and the dataset each reads. */
export const ROBUST_DATASET_TYPES = { ...REFERENCE_DATASET_TYPES, cifar10: 'cifar10' } as const;
export type RobustDatasetType = keyof typeof ROBUST_DATASET_TYPES;

/** Where the CVAE of a `cvae_*` method lives: a run folder and one of its checkpoints. */
export interface CvaeCheckpointRef {
  runDir: string;
  /** `latest`, `best` or `epoch-NNN` (a folder under `<runDir>/checkpoints/`). */
  checkpoint: string;
}

export interface RobustConfig {
  name: string;
  source: string;
  seed: number;
  model: { architecture: ClassifierArchitecture; numClasses: number; depth?: number; widthFactor?: number; normalize: boolean };
  attack: {
    type: RobustTrainingMethod;
    /** cvae_attack: latent radius ε (`max_dist`), step size (`alpha`, default ε/5) and steps (`niters`, default 7). */
    epsilon: number | null;
    alpha: number | null;
    steps: number;
    /** cvae_gaussian: the latent noise scale σ. */
    sigma: number | null;
    /** The CVAE of the cvae_* methods (null for none / sample_aug). */
    cvae: CvaeCheckpointRef | null;
    /** `attack.model.type` when given: checked against the CVAE the run holds. */
    cvaeArchitecture: string | null;
  };
  /** The real perturbation (sample_aug trains on it; evaluation reports accuracy under it); null if absent. */
  perturbation: { train: PerturbationSpec; test: PerturbationSpec } | null;
  training: TrainingSection;
  eval: { batchSize: number };
  dataset: DatasetSection & { type: RobustDatasetType };
  runDir: string;
  json: Json;
  warnings: string[];
}

export interface RobustConfigOverrides extends ConfigOverrides {
  /** The CVAE run folder (or checkpoint folder) to use instead of `attack.checkpoint`. */
  cvae?: string;
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['model', 'attack', 'perturbation', 'output_dir', 'training', 'eval', 'dataset', 'seed', 'device', 'dataparallel', 'resume'],
  model: ['model_dir', 'type', 'n_classes', 'layers', 'width_factor', 'normalize'],
  attack: ['type', 'max_dist', 'alpha', 'niters', 'sigma', 'model', 'checkpoint'],
  training: ['optimizer', 'epochs', 'batch_size', 'step_size_schedule', 'momentum', 'weight_decay', 'log_interval', 'checkpoint_interval', 'checkpoint_steps'],
  eval: ['batch_size', 'sample_interval', 'plot_segmentation'],
  dataset: ['type', 'data_path', 'padding', 'limit', 'validation_limit', 'transforms'],
};

/** The folder of shipped robust configs (`kernel/configs/robust`). */
export function builtinRobustConfigDir(): string {
  const candidates = [path.resolve(__dirname, '..', '..', 'configs', 'robust'), path.resolve(__dirname, '..', '..', '..', '..', 'kernel', 'configs', 'robust')];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new ConfigError(`shipped robust configs not found (looked in ${candidates.join(', ')}); is the package installed completely?`);
}

export function builtinRobustConfigNames(): string[] {
  return fs.readdirSync(builtinRobustConfigDir()).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** Loads a robust config by shipped name (`mnist_rts_conv_cvae_attack`) or JSON file, with overrides. */
export function loadRobustConfig(nameOrFile: string, overrides: RobustConfigOverrides = {}): RobustConfig {
  if (!nameOrFile) throw new ConfigError('config: no name or file given');
  const isPath = nameOrFile.includes('/') || nameOrFile.includes(path.sep) || nameOrFile.endsWith('.json');
  if (!isPath) {
    const file = path.join(builtinRobustConfigDir(), `${nameOrFile}.json`);
    if (fs.existsSync(file)) return robustConfigFromJson(readJsonFile(file), `builtin:${nameOrFile}`, overrides);
    if (!fs.existsSync(nameOrFile)) throw new ConfigError(`config "${nameOrFile}": no such shipped robust config (expected one of ${builtinRobustConfigNames().join(', ')}) and no such file`);
  } else if (!fs.existsSync(nameOrFile)) {
    throw new ConfigError(`config file ${nameOrFile} does not exist`);
  }
  return robustConfigFromJson(readJsonFile(nameOrFile), nameOrFile, overrides);
}

/**
 * The run folder and checkpoint a CVAE reference names (see the file comment). Relative paths
 * are resolved against `base` (default: the working directory, as the reference resolves them);
 * an existing folder is named by its real path (`runDirIdentity`).
 */
export function resolveCvaeCheckpoint(ref: string, where = 'attack.checkpoint', base = process.cwd()): CvaeCheckpointRef {
  const p = path.resolve(base, ref);
  const pth = /^(.*)[/\\]checkpoints[/\\]checkpoint_(latest|best|\d+)\.pth$/.exec(p);
  if (pth) {
    const which = pth[2];
    const checkpoint = /^\d+$/.test(which) ? `epoch-${String(Number(which) + 1).padStart(3, '0')}` : which;
    return { runDir: pth[1], checkpoint };
  }
  if (p.endsWith('.pth')) {
    throw new ConfigError(`${where}: "${ref}" is a PyTorch checkpoint pertset cannot map; give the pertset run folder of the CVAE (from \`pertset train\` or \`pertset import-torch\`), or <run>/checkpoints/checkpoint_{latest,best,N}.pth`);
  }
  const parent = path.dirname(p);
  if (path.basename(parent) === 'checkpoints' && fs.existsSync(path.join(path.dirname(parent), RUN_FILE))) {
    return { runDir: runDirIdentity(path.dirname(parent)), checkpoint: path.basename(p) };
  }
  return { runDir: runDirIdentity(p), checkpoint: 'latest' };
}

function warningsOf(root: Json): string[] {
  const out: string[] = [];
  for (const [sec, keys] of Object.entries(KNOWN_KEYS)) {
    const obj = sec === '' ? root : (root[sec] as Json | undefined);
    if (!obj || typeof obj !== 'object') continue;
    for (const k of Object.keys(obj)) if (!keys.includes(k)) out.push(`${sec ? `${sec}.` : ''}${k}: unknown key, ignored`);
  }
  return out;
}

/** The effective JSON: overrides applied to a deep copy (the run folder records what ran). */
function applyRobustOverrides(json: Json, o: RobustConfigOverrides): Json {
  const out = JSON.parse(JSON.stringify(json)) as Json;
  const sec = (k: string): Json => {
    const v = out[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${k}: missing section (a robust config has "model", "attack", "training" and "dataset")`);
    return v as Json;
  };
  applyCommonOverrides(out, o, ['step_size_schedule'], sec);
  if (o.cvae !== undefined) sec('attack').checkpoint = runDirIdentity(o.cvae);
  return out;
}

/** Validates a parsed robust config and converts it; `source` names the file in messages. */
export function robustConfigFromJson(raw: unknown, source: string, overrides: RobustConfigOverrides = {}): RobustConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: a config must be a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  try {
    return convert(applyRobustOverrides(raw as Json, overrides), source, overrides);
  } catch (e) {
    if (e instanceof ConfigError && !e.message.startsWith(source)) throw new ConfigError(`${source}: ${e.message}`);
    throw e;
  }
}

function convert(root: Json, source: string, overrides: RobustConfigOverrides): RobustConfig {
  const model = section(root, 'model', true)!;
  const attack = section(root, 'attack', true)!;
  const training = section(root, 'training', true)!;
  const dataset = section(root, 'dataset', true)!;
  const evalSec = section(root, 'eval', false);
  const pert = section(root, 'perturbation', false);

  // model
  const architecture = oneOf(model, 'type', 'model', CLASSIFIER_ARCHITECTURES);
  const numClasses = num(model, 'n_classes', 'model', { int: true, min: 2 }, 10);
  if (model.normalize !== undefined && typeof model.normalize !== 'boolean') throw new ConfigError(`model.normalize: expected true or false, got ${JSON.stringify(model.normalize)}`);
  const residual = architecture !== 'mnist_conv';
  const normalize = (model.normalize as boolean | undefined) ?? residual;
  if (normalize && !residual) throw new ConfigError('model.normalize: the CIFAR-10 channel normalisation applies to the residual nets only, not to mnist_conv');
  const depth = architecture === 'wideresnet' ? num(model, 'layers', 'model', { int: true, min: 10 }, 28) : undefined;
  if (depth !== undefined && (depth - 4) % 6 !== 0) throw new ConfigError(`model.layers: a WideResNet's depth is 6n + 4 (10, 16, 22, 28, ...), got ${depth}`);
  const widthFactor = architecture === 'wideresnet' ? num(model, 'width_factor', 'model', { int: true, min: 1 }, 10) : undefined;
  if (model.model_dir !== undefined && (typeof model.model_dir !== 'string' || model.model_dir === '')) {
    throw new ConfigError(`model.model_dir: expected a non-empty string, got ${JSON.stringify(model.model_dir)}`);
  }

  // attack
  const type = oneOf(attack, 'type', 'attack', ROBUST_TRAINING_METHODS);
  let epsilon: number | null = null;
  let alpha: number | null = null;
  let steps = 7;
  let sigma: number | null = null;
  if (type === 'cvae_attack') {
    epsilon = num(attack, 'max_dist', 'attack', { above: 0 });
    alpha = num(attack, 'alpha', 'attack', { above: 0 }, epsilon / 5);
    steps = num(attack, 'niters', 'attack', { int: true, min: 1 }, 7);
  }
  if (type === 'cvae_gaussian') sigma = num(attack, 'sigma', 'attack', { above: 0 });
  let cvae: CvaeCheckpointRef | null = null;
  let cvaeArchitecture: string | null = null;
  if (type.startsWith('cvae_')) {
    const ref = attack.checkpoint;
    if (typeof ref !== 'string' || ref === '') {
      throw new ConfigError(`attack.checkpoint: attack.type "${type}" needs the CVAE's run folder (from \`pertset train\`), e.g. "experiments/mnist_stn_rts"; got ${JSON.stringify(ref)} (or pass --cvae RUN_DIR)`);
    }
    cvae = resolveCvaeCheckpoint(ref);
    if (attack.model !== undefined) {
      const m = attack.model as Json;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new ConfigError(`attack.model: expected an object with the CVAE's "type", got ${JSON.stringify(attack.model)}`);
      cvaeArchitecture = oneOf(m, 'type', 'attack.model', ARCHITECTURES);
    }
  }

  // perturbation (the CVAE configs' section)
  let perturbation: RobustConfig['perturbation'] = null;
  if (pert) {
    const train = perturbationSpec(pert, 'train_type');
    const test = perturbationSpec(pert, 'test_type');
    for (const [key, spec] of [['train_type', train], ['test_type', test]] as const) {
      if (spec.type === 'dataloader') throw new ConfigError(`perturbation.${key}: "dataloader" (a fixed bank of perturbations) is for CVAE training; robust training draws fresh ones (use "rts" or "linfinity")`);
    }
    perturbation = { train, test };
  }
  if (type === 'sample_aug' && (!perturbation || perturbation.train.type === 'none')) {
    throw new ConfigError('perturbation: attack.type "sample_aug" trains on real perturbations, so the config needs a "perturbation" section with train_type "rts" or "linfinity" (as in the CVAE configs)');
  }

  // training
  const optimizer = training.optimizer ?? 'adam';
  if (optimizer !== 'adam') throw new ConfigError(`training.optimizer: ${JSON.stringify(optimizer)} is not supported; pertset trains classifiers with Adam, as every released robust config does`);
  const epochs = num(training, 'epochs', 'training', { int: true, min: 1 });
  const batchSize = num(training, 'batch_size', 'training', { int: true, min: 1 });
  if (training.step_size_schedule === undefined) throw new ConfigError('training.step_size_schedule: missing (expected [[epoch knots...], [values...]])');
  const lr = piecewiseLinear(training.step_size_schedule, 'training.step_size_schedule', { min: 0 });
  const weightDecay = num(training, 'weight_decay', 'training', { min: 0 }, 0);
  const checkpointInterval = training.checkpoint_interval === 'skip' ? null : num(training, 'checkpoint_interval', 'training', { int: true, min: 1 }, 10);
  const checkpointSteps = num(training, 'checkpoint_steps', 'training', { int: true, min: 0 }, 0);

  // dataset
  const datasetType = oneOf(dataset, 'type', 'dataset', Object.keys(ROBUST_DATASET_TYPES) as RobustDatasetType[]);
  const padding = num(dataset, 'padding', 'dataset', { int: true, min: 0 }, 0);
  if (datasetType === 'cifar10' && padding !== 0) throw new ConfigError(`dataset.padding: CIFAR-10 is used at 32×32, got padding ${padding}`);
  if ((datasetType === 'cifar10') !== residual) {
    throw new ConfigError(`model.type: ${architecture} ${residual ? 'takes CIFAR-10 images (dataset.type "cifar10")' : 'takes MNIST-family images'}, but dataset.type is "${datasetType}"`);
  }
  const side = datasetType === 'cifar10' ? 32 : 28 + 2 * padding;
  if (perturbation) {
    for (const spec of [perturbation.train, perturbation.test]) {
      if (spec.type === 'rts' && spec.cropSize !== side) throw new ConfigError(`perturbation.crop_sz: must equal the padded image size ${side}, got ${spec.cropSize}`);
    }
  }
  if (dataset.data_path !== undefined && typeof dataset.data_path !== 'string') throw new ConfigError(`dataset.data_path: expected a folder path, got ${JSON.stringify(dataset.data_path)}`);
  const dataPath = typeof dataset.data_path === 'string' && dataset.data_path !== '' ? dataset.data_path : null;
  const limit = dataset.limit === undefined ? null : num(dataset, 'limit', 'dataset', { int: true, min: 1 });
  const validationLimit = dataset.validation_limit === undefined ? null : num(dataset, 'validation_limit', 'dataset', { int: true, min: 1 });

  const seed = num(root, 'seed', '', { int: true }, 1);
  if (root.output_dir !== undefined && typeof root.output_dir !== 'string') throw new ConfigError(`output_dir: expected a folder path, got ${JSON.stringify(root.output_dir)}`);
  const name = (model.model_dir as string | undefined) ?? (source.startsWith('builtin:') ? source.slice(8) : path.basename(source, '.json'));
  const runDir = overrides.outDir ?? path.join((root.output_dir as string | undefined) ?? './robustness_experiments', name);

  return {
    name,
    source,
    seed,
    model: { architecture, numClasses, depth, widthFactor, normalize },
    attack: { type, epsilon, alpha, steps, sigma, cvae, cvaeArchitecture },
    perturbation,
    training: { optimizer: 'adam', epochs, batchSize, lr, weightDecay, checkpointInterval, checkpointSteps },
    eval: { batchSize: num(evalSec, 'batch_size', 'eval', { int: true, min: 1 }, 128) },
    dataset: { type: datasetType, dataPath, padding, limit, validationLimit },
    runDir,
    json: root,
    warnings: warningsOf(root),
  };
}
