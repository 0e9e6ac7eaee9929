/**
 * Validation of a reference-schema config and its conversion to `PertsetConfig`. Every problem
 * is a `ConfigError` naming its JSON path (`training.step_size_schedule[1][0]: ...`).
 */
import * as path from 'path';
import { CIFAR10C_DATASET_TYPES, REFERENCE_DATASET_TYPES } from '../data/load';
import { ArgumentError, ConfigError } from '../errors';
import { cifar10RectangleSize } from '../models/cifar10-rectangle';
import { ARCHITECTURES, OUTPUT_DISTRIBUTIONS, type ArchitectureName, type ModelSize, type OutputDistribution } from '../models/types';
import { getSuite } from '../corruptions/corrupter';
import type { Cifar10cPairingName, CropFlip } from '../perturbations/cifar10c';
import { REFERENCE_PERTURBATION_TYPES } from '../perturbations/registry';
import { OPTIMIZERS, type ReferenceConfig } from './reference-schema';
import { piecewiseLinear, scaleSchedule, type ScheduleJson } from './schedules';
import type { ConfigOverrides, DatasetType, PerturbationSpec, PertsetConfig } from './types';

export type Json = Record<string, unknown>;

/** Keys each section may hold; anything else becomes a warning (reference configs carry GPU-only keys). */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['model', 'perturbation', 'output_dir', 'training', 'eval', 'dataset', 'ae', 'oae', 'seed', 'device', 'dataparallel', 'resume'],
  model: ['model_dir', 'type', 'output_distribution', 'load', 'latent_dim', 'nblocks', 'big_ch', 'small_ch', 'kernel_size', 'padding'],
  perturbation: ['train_type', 'test_type', 'type', 'epsilon', 'min', 'max', 'angle', 'scale', 'crop_sz', 'padding'],
  training: ['optimizer', 'epochs', 'batch_size', 'step_size_schedule', 'beta_schedule', 'momentum', 'weight_decay', 'log_interval', 'checkpoint_interval', 'checkpoint_steps'],
  eval: ['batch_size', 'sample_interval'],
  dataset: ['type', 'data_path', 'padding', 'k', 'limit', 'validation_limit', 'corruptions', 'severity', 'cropflip'],
  ae: ['max_dist', 'alpha', 'niters'],
  oae: ['max_dist', 'alpha', 'niters'],
};

export function section(root: Json, key: string, required: boolean): Json | undefined {
  const v = root[key];
  if (v === undefined) {
    if (required) throw new ConfigError(`${key}: missing section (a reference config has "model", "perturbation", "training" and "dataset")`);
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${key}: expected an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

export interface NumberRule {
  min?: number;
  /** Strictly greater than. */
  above?: number;
  max?: number;
  int?: boolean;
}

export function num(obj: Json | undefined, key: string, where: string, rule: NumberRule, fallback?: number): number {
  const v = obj?.[key];
  const p = where ? `${where}.${key}` : key;
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new ConfigError(`${p}: missing (expected a number)`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${p}: expected a number, got ${JSON.stringify(v)}`);
  if (rule.int && !Number.isInteger(v)) throw new ConfigError(`${p}: expected an integer, got ${v}`);
  if (rule.min !== undefined && v < rule.min) throw new ConfigError(`${p}: must be >= ${rule.min}, got ${v}`);
  if (rule.above !== undefined && v <= rule.above) throw new ConfigError(`${p}: must be > ${rule.above}, got ${v}`);
  if (rule.max !== undefined && v > rule.max) throw new ConfigError(`${p}: must be <= ${rule.max}, got ${v}`);
  return v;
}

export function oneOf<T extends string>(obj: Json | undefined, key: string, where: string, allowed: readonly T[], fallback?: T): T {
  const v = obj?.[key];
  const p = where ? `${where}.${key}` : key;
  if (v === undefined) {
    if (fallback === undefined) throw new ConfigError(`${p}: missing (expected one of ${allowed.join(', ')})`);
    return fallback;
  }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${p}: unknown value ${JSON.stringify(v)}; expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

export function perturbationSpec(p: Json, key: 'train_type' | 'test_type'): PerturbationSpec {
  const type = oneOf(p, key, 'perturbation', REFERENCE_PERTURBATION_TYPES);
  const where = 'perturbation';
  switch (type) {
    case 'linfinity': {
      const min = num(p, 'min', where, {}, 0);
      const max = num(p, 'max', where, {}, 1);
      if (max <= min) throw new ConfigError(`perturbation.max: must be > perturbation.min (${min}), got ${max}`);
      return { type, epsilon: num(p, 'epsilon', where, { above: 0 }), min, max };
    }
    case 'rts': {
      const scale = p.scale;
      if (
        !Array.isArray(scale) || scale.length !== 2 || !scale.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0) || scale[0] > scale[1]
      ) {
        throw new ConfigError(`perturbation.scale: expected [low, high] with 0 < low <= high, got ${JSON.stringify(scale)}`);
      }
      return {
        type,
        angle: num(p, 'angle', where, { min: 0, max: 180 }),
        scale: [scale[0], scale[1]],
        cropSize: num(p, 'crop_sz', where, { int: true, above: 0 }),
        padding: num(p, 'padding', where, { int: true, min: 0 }),
      };
    }
    default:
      return { type };
  }
}

/** The reference's model keys of cifar10_rectangle's sizes (the MNIST architectures have none). */
const SIZE_KEYS: ReadonlyArray<[string, keyof ModelSize]> = [
  ['latent_dim', 'latentDim'], ['nblocks', 'blocks'], ['big_ch', 'bigChannels'], ['small_ch', 'smallChannels'], ['kernel_size', 'kernelSize'], ['padding', 'padding'],
];

function modelSize(model: Json, architecture: ArchitectureName): ModelSize | null {
  const given = SIZE_KEYS.filter(([key]) => model[key] !== undefined);
  if (architecture !== 'cifar10_rectangle') {
    if (given.length) throw new ConfigError(`model.${given[0][0]}: ${architecture} has fixed sizes; latent_dim, nblocks, big_ch, small_ch, kernel_size and padding apply to cifar10_rectangle`);
    return null;
  }
  const partial: Partial<ModelSize> = {};
  for (const [key, field] of given) partial[field] = num(model, key, 'model', { int: true, min: 0 });
  try {
    return cifar10RectangleSize(partial);
  } catch (e) {
    if (e instanceof ArgumentError) throw new ConfigError(`model: ${e.message}`);
    throw e;
  }
}

const PAIRING_OF: Record<string, Cifar10cPairingName> = { cifar10c: 'original', cifar10c_withoriginal: 'withoriginal', cifar10c_nooriginal: 'nooriginal' };

/** dataset.corruptions / severity / cropflip of a cifar10c* dataset (defaults: the 12 training corruptions, [5], no crop/flip). */
function cifarBank(dataset: Json, datasetType: string): NonNullable<PertsetConfig['dataset']['corruptions']> {
  const suite = getSuite('cifar10c');
  let names = [...suite.train];
  if (dataset.corruptions !== undefined) {
    const c = dataset.corruptions;
    if (!Array.isArray(c) || c.length === 0 || !c.every((n) => typeof n === 'string')) {
      throw new ConfigError(`dataset.corruptions: expected a non-empty list of CIFAR-10-C corruption names, got ${JSON.stringify(c)}`);
    }
    const unknown = c.find((n) => !suite.corruptions[n as string]);
    if (unknown !== undefined) throw new ConfigError(`dataset.corruptions: unknown corruption "${unknown}"; expected names from ${suite.names.join(', ')}`);
    names = c as string[];
  }
  let severities = [suite.protocolSeverity];
  if (dataset.severity !== undefined) {
    const sv = typeof dataset.severity === 'number' ? [dataset.severity] : dataset.severity;
    if (!Array.isArray(sv) || sv.length === 0 || !sv.every((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 5)) {
      throw new ConfigError(`dataset.severity: expected a non-empty list of severities from 1 to 5, got ${JSON.stringify(dataset.severity)}`);
    }
    severities = sv as number[];
  }
  let cropFlip: CropFlip | null = null;
  if (dataset.cropflip !== undefined) {
    const cf = section(dataset, 'cropflip', true)!;
    const crop = cf.crop;
    if (crop !== undefined && !(Array.isArray(crop) && crop.length === 2 && crop[0] === 32 && crop[1] === 32)) {
      throw new ConfigError(`dataset.cropflip.crop: the crop must give back 32×32 images, [32, 32], got ${JSON.stringify(crop)}`);
    }
    if (cf.flip !== undefined && typeof cf.flip !== 'boolean') throw new ConfigError(`dataset.cropflip.flip: expected true or false, got ${JSON.stringify(cf.flip)}`);
    cropFlip = { pad: num(cf, 'pad', 'dataset.cropflip', { int: true, min: 0 }, 0), flip: cf.flip === true };
  }
  const pairing = PAIRING_OF[datasetType];
  if (pairing === 'nooriginal' && names.length * severities.length < 2) {
    throw new ConfigError('dataset.corruptions: the nooriginal pairing needs at least two corrupted versions (corruptions × severities)');
  }
  return { pairing, names, severities, cropFlip };
}

function schedule(t: Json, key: string, min: number) {
  if (t[key] === undefined) throw new ConfigError(`training.${key}: missing (expected [[epoch knots...], [values...]])`);
  return piecewiseLinear(t[key], `training.${key}`, { min });
}

function collectWarnings(root: Json): string[] {
  const warnings: string[] = [];
  for (const [sec, keys] of Object.entries(KNOWN_KEYS)) {
    const obj = sec === '' ? root : (root[sec] as Json | undefined);
    if (!obj || typeof obj !== 'object') continue;
    for (const k of Object.keys(obj)) {
      const p = sec ? `${sec}.${k}` : k;
      // Known keys without effect here (device, momentum, log_interval, ...) pass silently.
      if (!keys.includes(k)) warnings.push(`${p}: unknown key, ignored`);
    }
  }
  return warnings;
}

/**
 * Applies the overrides both config kinds take to `out` (a deep copy of the on-disk JSON, edited
 * in place so the run directory records what ran). `schedules`: the `training` keys holding
 * epoch schedules, rescaled when the epochs change; `sec` returns a section, reporting a
 * missing one in the config kind's words.
 */
export function applyCommonOverrides(out: Json, o: ConfigOverrides, schedules: readonly string[], sec: (key: 'training' | 'dataset') => Json): void {
  for (const [name, v] of [['epochs', o.epochs], ['limit', o.limit], ['validationLimit', o.validationLimit], ['batchSize', o.batchSize]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${name}: must be an integer >= 1, got ${v}`);
  }
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new ConfigError(`seed: must be an integer, got ${o.seed}`);
  if (o.epochs !== undefined) {
    const t = sec('training');
    const from = t.epochs;
    if (typeof from === 'number' && from > 0 && from !== o.epochs) {
      // A shortened run keeps the schedules' shape: knots are rescaled to the new length.
      for (const key of schedules) {
        const scaled = scaleSchedule(piecewiseLinear(t[key], `training.${key}`), o.epochs / from);
        t[key] = [scaled.knots.slice(), scaled.values.slice()] as ScheduleJson;
      }
    }
    t.epochs = o.epochs;
  }
  if (o.batchSize !== undefined) sec('training').batch_size = o.batchSize;
  if (o.limit !== undefined) sec('dataset').limit = o.limit;
  if (o.validationLimit !== undefined) sec('dataset').validation_limit = o.validationLimit;
  if (o.dataDir !== undefined) sec('dataset').data_path = o.dataDir;
  if (o.seed !== undefined) out.seed = o.seed;
}

/** Applies overrides to the on-disk JSON (a deep copy), so the run directory records what ran. */
export function applyOverrides(json: ReferenceConfig, overrides: ConfigOverrides): ReferenceConfig {
  // Overrides edit a config that is valid as written: a missing or malformed section is reported
  // by the same validation as without overrides, never as a crash while editing it.
  convert(json, '', {});
  const out = JSON.parse(JSON.stringify(json)) as ReferenceConfig;
  const root = out as unknown as Json;
  applyCommonOverrides(root, overrides, ['step_size_schedule', 'beta_schedule'], (key) => section(root, key, true)!);
  return out;
}

/**
 * Validates a reference-schema config (already parsed JSON) and converts it. `source` names the
 * file in messages and in the run record.
 */
export function fromReferenceConfig(raw: unknown, source: string, overrides: ConfigOverrides = {}): PertsetConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: a config must be a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  try {
    return convert(applyOverrides(raw as ReferenceConfig, overrides), source, overrides);
  } catch (e) {
    if (e instanceof ConfigError && !e.message.startsWith(source)) throw new ConfigError(`${source}: ${e.message}`);
    throw e;
  }
}

function convert(json: ReferenceConfig, source: string, overrides: ConfigOverrides): PertsetConfig {
  const root = json as unknown as Json;
  const model = section(root, 'model', true)!;
  const pert = section(root, 'perturbation', true)!;
  const training = section(root, 'training', true)!;
  const dataset = section(root, 'dataset', true)!;
  const evalSec = section(root, 'eval', false);
  const ae = section(root, 'ae', false);
  const oae = section(root, 'oae', false);

  const architecture = oneOf(model, 'type', 'model', ARCHITECTURES) as ArchitectureName;
  const outputDistribution = oneOf(model, 'output_distribution', 'model', OUTPUT_DISTRIBUTIONS, 'bernoulli') as OutputDistribution;
  if (model.model_dir !== undefined && (typeof model.model_dir !== 'string' || model.model_dir === '')) {
    throw new ConfigError(`model.model_dir: expected a non-empty string, got ${JSON.stringify(model.model_dir)}`);
  }
  if (model.load !== undefined && model.load !== false && typeof model.load !== 'string') {
    throw new ConfigError(`model.load: expected a checkpoint path or false, got ${JSON.stringify(model.load)}`);
  }

  const size = modelSize(model, architecture);
  const train = perturbationSpec(pert, 'train_type');
  const test = perturbationSpec(pert, 'test_type');

  oneOf(training, 'optimizer', 'training', OPTIMIZERS, 'adam');
  const epochs = num(training, 'epochs', 'training', { int: true, min: 1 });
  const batchSize = num(training, 'batch_size', 'training', { int: true, min: 1 });
  const lr = schedule(training, 'step_size_schedule', 0);
  const beta = schedule(training, 'beta_schedule', 0);
  const weightDecay = num(training, 'weight_decay', 'training', { min: 0 }, 0);
  let checkpointInterval: number | null = 10;
  if (training.checkpoint_interval === 'skip') checkpointInterval = null;
  else checkpointInterval = num(training, 'checkpoint_interval', 'training', { int: true, min: 1 }, 10);
  const checkpointSteps = num(training, 'checkpoint_steps', 'training', { int: true, min: 0 }, 0);

  const datasetType = oneOf(dataset, 'type', 'dataset', Object.keys({ ...REFERENCE_DATASET_TYPES, ...CIFAR10C_DATASET_TYPES }) as DatasetType[]) as DatasetType;
  const padding = num(dataset, 'padding', 'dataset', { int: true, min: 0 }, 0);
  let k: number | null = null;
  let corruptions: PertsetConfig['dataset']['corruptions'] = null;
  const cifar = datasetType.startsWith('cifar10c');
  if (cifar !== (architecture === 'cifar10_rectangle')) {
    throw new ConfigError(`dataset.type: ${architecture} ${cifar ? 'does not take' : 'takes'} CIFAR-10 images, but dataset.type is "${datasetType}"${cifar ? '' : ' (expected cifar10c, cifar10c_withoriginal or cifar10c_nooriginal)'}`);
  }
  if (cifar) {
    corruptions = cifarBank(dataset, datasetType);
    const versions = corruptions.names.length * corruptions.severities.length;
    if (dataset.k !== undefined) {
      k = num(dataset, 'k', 'dataset', { int: true, min: 1 });
      if (k !== versions) throw new ConfigError(`dataset.k: every image has ${versions} corrupted versions (corruptions × severities), got k = ${k}`);
    }
    for (const [key, spec] of [['train_type', train], ['test_type', test]] as const) {
      if (spec.type !== 'dataloader') throw new ConfigError(`perturbation.${key}: dataset "${datasetType}" carries its pairs, so ${key} must be "dataloader", got "${spec.type}"`);
    }
  } else if (datasetType === 'mnist_rts_limited') {
    k = num(dataset, 'k', 'dataset', { int: true, min: 1 });
    if (train.type !== 'dataloader') {
      throw new ConfigError(`perturbation.train_type: dataset "mnist_rts_limited" draws its training pairs from the fixed bank, so train_type must be "dataloader", got "${train.type}"`);
    }
    if (test.type !== 'rts') throw new ConfigError(`perturbation.test_type: dataset "mnist_rts_limited" is evaluated on fresh RTS pairs, so test_type must be "rts", got "${test.type}"`);
  } else {
    for (const [key, spec] of [['train_type', train], ['test_type', test]] as const) {
      if (spec.type === 'dataloader') throw new ConfigError(`perturbation.${key}: "dataloader" needs a dataset that carries its perturbations (mnist_rts_limited), but dataset.type is "${datasetType}"`);
    }
  }
  const imageSide = cifar ? 32 : 28;
  const inputSide = imageSide + 2 * padding;
  const expectedSide = architecture === 'mnist_stn' ? 42 : imageSide;
  if (inputSide !== expectedSide) {
    throw new ConfigError(`dataset.padding: ${architecture} takes ${expectedSide}×${expectedSide} inputs, so padding must be ${(expectedSide - imageSide) / 2}, got ${padding}`);
  }
  for (const spec of [train, test]) {
    if (spec.type === 'rts' && spec.cropSize !== inputSide) {
      throw new ConfigError(`perturbation.crop_sz: must equal the padded image size ${inputSide}, got ${spec.cropSize}`);
    }
  }
  const limit = dataset.limit === undefined ? null : num(dataset, 'limit', 'dataset', { int: true, min: 1 });
  const validationLimit = dataset.validation_limit === undefined ? null : num(dataset, 'validation_limit', 'dataset', { int: true, min: 1 });
  const dataPath = typeof dataset.data_path === 'string' && dataset.data_path !== '' ? dataset.data_path : null;
  if (dataset.data_path !== undefined && typeof dataset.data_path !== 'string') {
    throw new ConfigError(`dataset.data_path: expected a folder path, got ${JSON.stringify(dataset.data_path)}`);
  }

  const radius = ae?.max_dist === undefined ? null : num(ae, 'max_dist', 'ae', { above: 0 });
  const overRadius = oae?.max_dist === undefined ? null : num(oae, 'max_dist', 'oae', { above: 0 });

  const seed = num(root, 'seed', '', { int: true }, 1);
  if (root.output_dir !== undefined && typeof root.output_dir !== 'string') {
    throw new ConfigError(`output_dir: expected a folder path, got ${JSON.stringify(root.output_dir)}`);
  }
  const name = (model.model_dir as string | undefined) ?? (source.startsWith('builtin:') ? source.slice(8) : path.basename(source, '.json'));
  const outputDir = (root.output_dir as string | undefined) ?? './experiments';
  const runDir = overrides.outDir ?? path.join(outputDir, name);

  return {
    name,
    source,
    seed,
    model: { architecture, outputDistribution, load: typeof model.load === 'string' ? model.load : null, size },
    perturbation: { train, test },
    training: { optimizer: 'adam', epochs, batchSize, lr, beta, weightDecay, checkpointInterval, checkpointSteps },
    eval: {
      batchSize: num(evalSec, 'batch_size', 'eval', { int: true, min: 1 }, 128),
      radius,
      alpha: ae?.alpha === undefined ? null : num(ae, 'alpha', 'ae', { above: 0 }),
      steps: num(ae, 'niters', 'ae', { int: true, min: 0 }, 50),
      overRadius,
      overAlpha: oae?.alpha === undefined ? null : num(oae, 'alpha', 'oae', { above: 0 }),
      overSteps: num(oae, 'niters', 'oae', { int: true, min: 0 }, 50),
    },
    dataset: { type: datasetType, dataPath, padding, k, corruptions, limit, validationLimit },
    runDir,
    json,
    warnings: collectWarnings(root),
  };
}
