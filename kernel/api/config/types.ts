/**
 * The live, validated configuration (camelCase), built from the on-disk reference JSON by
 * `fromReferenceConfig`. Training, evaluation and the CLI read only this.
 */
import type { CIFAR10C_DATASET_TYPES, REFERENCE_DATASET_TYPES } from '../data/load';
import type { ArchitectureName, ModelSize, OutputDistribution } from '../models/types';
import type { Cifar10cPairingName, CropFlip } from '../perturbations/cifar10c';
import type { ReferenceConfig } from './reference-schema';
import type { PiecewiseLinear } from './schedules';

export type PerturbationSpec =
  | { type: 'linfinity'; epsilon: number; min: number; max: number }
  | { type: 'rts'; angle: number; scale: [number, number]; cropSize: number; padding: number }
  /** Pairs come with the data (mnist_rts_limited: the fixed bank of k perturbations per image). */
  | { type: 'dataloader' }
  /** x̃ = x. */
  | { type: 'none' }
  /** One of the MNIST analogue's 12 training corruptions at severity 5 (pertset's). */
  | { type: 'mnistc' };

/** `dataset.type` of a reference config (see `data.REFERENCE_DATASET_TYPES`; the CIFAR-10-C pairings in data/load.ts `CIFAR10C_DATASET_TYPES`). */
export type DatasetType = keyof typeof REFERENCE_DATASET_TYPES | keyof typeof CIFAR10C_DATASET_TYPES;

/** The `training` settings both config kinds (CVAE and robust classifier) have. */
export interface TrainingSection {
  optimizer: 'adam';
  epochs: number;
  batchSize: number;
  /** Learning rate against fractional epoch. */
  lr: PiecewiseLinear;
  weightDecay: number;
  /** Numbered checkpoint every N epochs; null = "skip" (then no numbered and no best checkpoints). */
  checkpointInterval: number | null;
  /** Also write "latest" every N optimiser steps (0 = only at epoch ends and on interrupt). */
  checkpointSteps: number;
}

/** The `dataset` settings both config kinds have (besides their own `type`). */
export interface DatasetSection {
  /** Explicit data folder (`--data` or `dataset.data_path`), else null (discovery). */
  dataPath: string | null;
  /** Zero padding around each image (RTS: 7 → 42×42 canvas). */
  padding: number;
  /** Use only this many training images (null: all). */
  limit: number | null;
  /** Use only this many validation images (null: all; the reference uses 1k for MNIST). */
  validationLimit: number | null;
}

export interface PertsetConfig {
  /** Run name: `model.model_dir`, else the file name. */
  name: string;
  /** Where the config came from: a file path or `builtin:<name>`. */
  source: string;
  seed: number;
  /** `size`: cifar10_rectangle's sizes (null for the fixed-size MNIST architectures). */
  model: { architecture: ArchitectureName; outputDistribution: OutputDistribution; load: string | null; size: ModelSize | null };
  perturbation: { train: PerturbationSpec; test: PerturbationSpec };
  /** `beta`: the KL weight against integer epoch (the CVAE's only training key beyond the shared ones). */
  training: TrainingSection & { beta: PiecewiseLinear };
  eval: {
    batchSize: number;
    /** The set's radius ε from the config's `ae.max_dist` (null: not given; calibrate with `radius`). */
    radius: number | null;
    /** PGD step size (default radius/20) and steps (default 50). */
    alpha: number | null;
    steps: number;
    overRadius: number | null;
    overAlpha: number | null;
    overSteps: number;
  };
  dataset: DatasetSection & {
    type: DatasetType;
    /** mnist_rts_limited: fixed perturbations per training image. */
    k: number | null;
    /** cifar10c*: the pairing and the bank of corrupted versions each image owns (null otherwise). */
    corruptions: { pairing: Cifar10cPairingName; names: string[]; severities: number[]; cropFlip: CropFlip | null } | null;
  };
  /** Default run directory: `output_dir/model_dir` as the reference's train.py. */
  runDir: string;
  /** The effective on-disk JSON (overrides applied); written into the run directory. */
  json: ReferenceConfig;
  /** Keys that were ignored (unknown or GPU-only), one line each. */
  warnings: string[];
}

/** Command-line / notebook overrides applied on top of a config file (either kind). */
export interface ConfigOverrides {
  /** Train for N epochs; the schedules' knots are rescaled to N (a shortened run of the same shape). */
  epochs?: number;
  /** Use only the first N training images. */
  limit?: number;
  /** Use only the first N validation images (quick runs: validation and radius calibration cost less). */
  validationLimit?: number;
  /** Minibatch size (`training.batch_size`). */
  batchSize?: number;
  seed?: number;
  /** Data folder (explicit: must exist). */
  dataDir?: string;
  /** Run directory (replaces `output_dir/model_dir`). */
  outDir?: string;
}
