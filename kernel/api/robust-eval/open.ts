/**
 * Opening a robust training run (`pertset robust-train`'s folder) for evaluation: its config, the
 * classifier of a checkpoint ("best" when there is one, else "latest"), the CVAE the run trained
 * against (recorded in the checkpoint) and the test images of the dataset it recorded, with the
 * config's real perturbation drawn per image from a seed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Classifier } from '../classifiers/types';
import { resolveCvaeCheckpoint, robustConfigFromJson, ROBUST_DATASET_TYPES, type RobustConfig } from '../config/robust';
import type { ImageDataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { CheckpointError, ConfigError } from '../errors';
import type { CVAE } from '../models/types';
import { recordedData } from '../pairs/config-pairs';
import { createPairSource, type PairSource } from '../pairs/source';
import { perturbationsForConfig } from '../perturbations/registry';
import { checkpointExists, loadModel, readJson, readTrainerState, TRAINER_FILE } from '../runs/checkpoint';
import { loadClassifier } from '../runs/classifier-checkpoint';
import { RUN_FILE } from '../runs/run-record';

export type RobustCheckpointName = 'best' | 'latest';

/** The options every evaluation of a robust run takes (`robustEvalRun`, `certifyRun`, `robustOodRun`). */
export interface RobustRunOptions {
  /** First N test images (default all; `certifyRun`: `DEFAULT_CERTIFY_LIMIT`). */
  limit?: number;
  /** Checkpoint of the classifier (default "best" when it exists, else "latest"). */
  checkpoint?: RobustCheckpointName;
  /** The CVAE run folder whose set to use (default: the one the run trained against). */
  cvae?: string;
  /** Folder with the dataset files (checked against the run's recorded dataset). */
  dataDir?: string;
  /** Seed of the real perturbations and every random draw (default: the config's). */
  seed?: number;
  /** Write the result beside the run (default true). */
  save?: boolean;
  signal?: AbortSignal;
}

/** The CVAE a robust run used (or is evaluated against): its run folder, checkpoint and global step. */
export interface CvaeUsed {
  runDir: string;
  checkpoint: string;
  globalStep: number;
}

export interface OpenedRobustRun {
  runDir: string;
  config: RobustConfig;
  classifier: Classifier;
  checkpoint: RobustCheckpointName;
  checkpointDir: string;
  /** Global step and completed epochs of the loaded checkpoint, and whether training had finished. */
  globalStep: number;
  epoch: number;
  finished: boolean;
  /** The dataset the run recorded (its trainer state), to read exactly that data's test split. */
  dataset: { train?: unknown } | null;
}

interface RobustStateJson {
  kind?: string;
  epoch?: number;
  globalStep?: number;
  finished?: boolean;
  dataset?: { train?: unknown };
  cvae?: CvaeUsed | null;
}

function stateOf(checkpointDir: string): RobustStateJson {
  const file = path.join(checkpointDir, TRAINER_FILE);
  return fs.existsSync(file) ? readJson<RobustStateJson>(file) : {};
}

/**
 * Opens `runDir` (a folder written by `pertset robust-train`) at `checkpoint` (default: "best" when
 * it exists, else "latest"). Errors name the folder and what is missing.
 */
export function openRobustRun(runDir: string, options: { checkpoint?: RobustCheckpointName } = {}): OpenedRobustRun {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir)) throw new ConfigError(`--run: the run folder ${dir} does not exist; train one with \`pertset robust-train --config NAME --out ${runDir}\``);
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile) || !fs.existsSync(path.join(dir, RUN_FILE))) {
    throw new ConfigError(`--run: ${dir} is not a robust training run (no config.json and ${RUN_FILE}); give the --out folder of \`pertset robust-train\``);
  }
  const json = readJson<unknown>(configFile);
  const isRobust = typeof json === 'object' && json !== null && 'attack' in json && 'model' in json;
  if (!isRobust) throw new ConfigError(`--run: ${configFile} is not a robust training config (no "attack" section); for a CVAE run use \`pertset eval\``);
  const config = robustConfigFromJson(json, configFile, { outDir: dir });
  const which: RobustCheckpointName = options.checkpoint ?? (checkpointExists(path.join(dir, 'checkpoints', 'best')) ? 'best' : 'latest');
  const checkpointDir = path.join(dir, 'checkpoints', which);
  if (!checkpointExists(checkpointDir)) {
    throw new CheckpointError(`${dir} has no "${which}" checkpoint yet (${checkpointDir}); train at least one epoch (rerun \`pertset robust-train\` with --out ${runDir})`);
  }
  const state = stateOf(checkpointDir);
  if (state.kind !== undefined && state.kind !== 'robust-train') throw new CheckpointError(`${checkpointDir}: not a robust-training checkpoint (kind "${state.kind}")`);
  const classifier = loadClassifier(checkpointDir);
  return {
    runDir: dir,
    config,
    classifier,
    checkpoint: which,
    checkpointDir,
    globalStep: state.globalStep ?? readTrainerState(checkpointDir)?.globalStep ?? 0,
    epoch: state.epoch ?? 0,
    finished: state.finished === true,
    dataset: state.dataset ?? null,
  };
}

/**
 * The CVAE to attack or smooth with: `cvae` (a run folder or a checkpoint folder in one) when
 * given, else the one the run's checkpoint recorded, else the config's `attack.checkpoint`.
 * `note` says when the CVAE has moved on since the run was trained against it.
 */
export function openRunCvae(run: OpenedRobustRun, cvae?: string): { model: CVAE; used: CvaeUsed; note: string | null } {
  const recorded = stateOf(run.checkpointDir).cvae ?? null;
  const ref = cvae !== undefined ? resolveCvaeCheckpoint(cvae, '--cvae') : recorded ?? run.config.attack.cvae;
  if (!ref) {
    throw new ConfigError(
      `${run.runDir} was trained with attack.type "${run.config.attack.type}", which uses no perturbation set; pass --cvae RUN_DIR (the CVAE run folder whose set to attack with, e.g. the one its cvae_* runs used)`,
    );
  }
  const checkpointDir = path.join(ref.runDir, 'checkpoints', ref.checkpoint);
  if (!fs.existsSync(ref.runDir)) throw new ConfigError(`the CVAE run folder ${ref.runDir} does not exist; pass --cvae RUN_DIR`);
  if (!checkpointExists(checkpointDir)) throw new CheckpointError(`the CVAE run ${ref.runDir} has no "${ref.checkpoint}" checkpoint (${checkpointDir})`);
  const model = loadModel(checkpointDir);
  const [h, w, c] = run.classifier.inputShape;
  const [mh, mw, mc] = model.inputShape;
  if (h !== mh || w !== mw || c !== mc) {
    model.dispose();
    throw new ConfigError(`the CVAE in ${checkpointDir} takes ${mh}×${mw}×${mc} images but the classifier of ${run.runDir} takes ${h}×${w}×${c}`);
  }
  const globalStep = readTrainerState(checkpointDir)?.globalStep ?? 0;
  const sameRun = recorded && path.resolve(recorded.runDir) === path.resolve(ref.runDir) && recorded.checkpoint === ref.checkpoint;
  const note = sameRun && recorded.globalStep !== globalStep
    ? `the CVAE ${ref.runDir} (${ref.checkpoint}) is now at global step ${globalStep}; the classifier was trained against step ${recorded.globalStep}`
    : null;
  return { model, used: { runDir: ref.runDir, checkpoint: ref.checkpoint, globalStep }, note };
}

/** The run's test images (the dataset it recorded, first `limit`) paired with the config's test perturbation, drawn from `seed`. */
export function robustTestPairs(run: OpenedRobustRun, options: { limit?: number; dataDir?: string; seed: number }): { images: ImageDataset; pairs: PairSource } {
  const c = run.config;
  const recorded = run.dataset ? recordedData({ dataset: { type: ROBUST_DATASET_TYPES[c.dataset.type] } }, run.dataset) : undefined;
  const images = loadDataset(recorded?.name ?? ROBUST_DATASET_TYPES[c.dataset.type], {
    split: 'test',
    dir: options.dataDir ?? (recorded ? undefined : c.dataset.dataPath ?? undefined),
    expect: recorded,
    limit: options.limit,
    padding: c.dataset.padding,
  });
  const perturbation = perturbationsForConfig({ perturbation: c.perturbation ?? { train: { type: 'none' }, test: { type: 'none' } } }).test;
  return { images, pairs: createPairSource(images, perturbation, { seed: options.seed, shuffle: false, stream: 'robust-eval' }) };
}
