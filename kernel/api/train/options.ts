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

export interface TrainerOptions extends ConfigOverrides {
  /** Compute backend (default `PERTSET_BACKEND` or auto). */
  backend?: BackendName;
  /** Pairs to train on instead of the config's dataset (notebooks, tests). */
  data?: TrainingData;
  /** Resume from the run directory's "latest" checkpoint when there is one (default true). */
  resume?: boolean;
  /** Write checkpoints and run.json (default true). With false nothing touches the disk. */
  persist?: boolean;
  /** Write "latest" every N optimiser steps too (default: the config's `training.checkpoint_steps`). */
  checkpointSteps?: number;
  /** Loss growth factor that counts as divergence (default 1000). */
  divergenceFactor?: number;
  /** Adam implementation: the backend's fused one (default) or `tf.train.adam`. */
  optimizer?: 'fused' | 'tfjs';
  /** Test-only fault injection into checkpoint writes. */
  checkpointHooks?: AtomicWriteHooks;
}

export interface RunOptions {
  /** Run at most this many more epochs (default: to the end of the schedule). */
  epochs?: number;
  /** Run at most this many more optimiser steps. */
  steps?: number;
  /** Aborting stops like an interrupt (checkpoint saved, `InterruptedError`). */
  signal?: AbortSignal;
  /** Progress hooks: `onBatchEnd` after every step, `onEpochEnd` after every epoch. */
  callbacks?: TrainCallbacks;
}

export interface TrainResult {
  /** `finished`: the schedule is complete; `paused`: stopped by `epochs`/`steps`. */
  status: 'finished' | 'paused';
  epoch: number;
  step: number;
  globalStep: number;
  history: EpochSummary[];
  runDir: string | null;
}

/** Per-example means: loss = recon + β·KL. */
export interface LossMeans {
  loss: number;
  kl: number;
  recon: number;
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
  if (typeof config === 'string') return loadConfig(config, overrides);
  const anyOverride = Object.values(overrides).some((v) => v !== undefined);
  return anyOverride ? fromReferenceConfig(config.json, config.source, { ...overrides, outDir: overrides.outDir ?? config.runDir }) : config;
}
