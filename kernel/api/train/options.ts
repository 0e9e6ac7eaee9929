/**
 * What a `Trainer` is configured with: the options of `Trainer.create` and `run`, what `run`
 * returns, and how a config name/file/object plus overrides becomes the effective config.
 */
import type { BackendName } from '../backend';
import { loadConfig } from '../config/load';
import { fromReferenceConfig } from '../config/from-reference';
import type { ConfigOverrides, PertsetConfig } from '../config/types';
import type { AtomicWriteHooks } from '../runs/atomic-dir';
import type { TrainingData } from '../pairs/config-pairs';
import type { EpochSummary, TrainCallbacks } from './events';

/** How every trainer is created: backend, data and run folder (`Data`: the trainer's kind of data). */
export interface TrainerRunOptions<Data> {
  /** Compute backend (default `PERTSET_BACKEND` or auto). */
  backend?: BackendName;
  /** Data to train on instead of the config's dataset (notebooks, tests). */
  data?: Data;
  /** Resume from the run directory's "latest" checkpoint when there is one (default true). */
  resume?: boolean;
  /** Write checkpoints and run.json (default true). With false nothing touches the disk. */
  persist?: boolean;
  /** Write "latest" every N optimiser steps too (default: the config's `training.checkpoint_steps`). */
  checkpointSteps?: number;
  /** Test-only fault injection into checkpoint writes. */
  checkpointHooks?: AtomicWriteHooks;
}

export interface TrainerOptions extends ConfigOverrides, TrainerRunOptions<TrainingData> {
  /** Loss growth factor that counts as divergence (default 1000). */
  divergenceFactor?: number;
  /** Adam implementation: the backend's fused one (default) or `tf.train.adam`. */
  optimizer?: 'fused' | 'tfjs';
}

/** What `run` takes, for every trainer (the callbacks carry the trainer's events). */
export interface RunOptions<Callbacks = TrainCallbacks> {
  /** Run at most this many more epochs (default: to the end of the schedule). */
  epochs?: number;
  /** Run at most this many more optimiser steps. */
  steps?: number;
  /** Aborting stops like an interrupt (checkpoint saved, `InterruptedError`). */
  signal?: AbortSignal;
  /** Progress hooks: `onBatchEnd` after every step, `onEpochEnd` after every epoch. */
  callbacks?: Callbacks;
}

/** What `run` resolves to, for every trainer (`history`: the trainer's epoch summaries). */
export interface TrainResult<Summary = EpochSummary> {
  /** `finished`: the schedule is complete; `paused`: stopped by `epochs`/`steps`. */
  status: 'finished' | 'paused';
  epoch: number;
  step: number;
  globalStep: number;
  history: Summary[];
  runDir: string | null;
}

/** Per-example means: loss = recon + β·KL. */
export interface LossMeans {
  loss: number;
  kl: number;
  recon: number;
}

/**
 * The effective config of any trainer: a shipped name or file loaded (`load`) with the overrides,
 * or a loaded config rebuilt from its JSON (`fromJson`) with them applied (kept as it is when there are none).
 */
export function resolveConfig<Config extends { json: unknown; source: string; runDir: string }, Overrides extends { outDir?: string }>(
  config: string | Config,
  overrides: Overrides,
  load: (name: string, overrides: Overrides) => Config,
  fromJson: (json: Config['json'], source: string, overrides: Overrides) => Config,
): Config {
  if (typeof config === 'string') return load(config, overrides);
  const anyOverride = Object.values(overrides).some((v) => v !== undefined);
  return anyOverride ? fromJson(config.json, config.source, { ...overrides, outDir: overrides.outDir ?? config.runDir }) : config;
}

/** The effective config: a shipped name or file loaded with the overrides, or a loaded config with them applied. */
export function resolveTrainerConfig(config: string | PertsetConfig, options: ConfigOverrides): PertsetConfig {
  const overrides: ConfigOverrides = {
    epochs: options.epochs,
    limit: options.limit,
    validationLimit: options.validationLimit,
    batchSize: options.batchSize,
    seed: options.seed,
    dataDir: options.dataDir,
    outDir: options.outDir,
  };
  return resolveConfig(config, overrides, loadConfig, fromReferenceConfig);
}
