/**
 * The reference repository's config JSON (locuslab/perturbation_learning `configs/*.json`) typed
 * exactly as it sits on disk, snake_case keys included, so a reference user's file loads as is.
 * `from-reference.ts` validates it and converts it to the live `PertsetConfig`.
 */
import type { ScheduleJson } from './schedules';

// The names `model.type`, `perturbation.*_type` and `dataset.type` may take are defined once, where
// they are implemented: models.ARCHITECTURES, perturbations.REFERENCE_PERTURBATION_TYPES and
// data.REFERENCE_DATASET_TYPES.
export const OPTIMIZERS = ['adam'] as const;

export interface ReferenceModelSection {
  model_dir?: string;
  type: string;
  output_distribution?: string;
  /** Path of a checkpoint to initialise from (reference: a .pth; here a pertset checkpoint dir). */
  load?: string | false;
  /** cifar10_rectangle sizes (defaults: the reference's 512, 4, 64, 16, 3, 1). */
  latent_dim?: number;
  nblocks?: number;
  big_ch?: number;
  small_ch?: number;
  kernel_size?: number;
  padding?: number;
}

export interface ReferencePerturbationSection {
  train_type: string;
  test_type: string;
  type?: string;
  /** linfinity: half-width of the uniform noise and the clipping range. */
  epsilon?: number;
  min?: number;
  max?: number;
  /** rts: rotation ±angle degrees, scale range, crop size after padding. */
  angle?: number;
  scale?: [number, number];
  crop_sz?: number;
  padding?: number;
}

export interface ReferenceTrainingSection {
  optimizer?: string;
  epochs: number;
  batch_size: number;
  /** The learning-rate schedule (the reference calls it the step size). */
  step_size_schedule: ScheduleJson;
  beta_schedule: ScheduleJson;
  momentum?: number;
  weight_decay?: number;
  log_interval?: number;
  /** Keep a numbered checkpoint every N epochs; "skip" disables numbered and best checkpoints. */
  checkpoint_interval?: number | 'skip';
  /** pertset extension: also write the "latest" checkpoint every N optimiser steps (0 = off). */
  checkpoint_steps?: number;
}

export interface ReferenceEvalSection {
  batch_size?: number;
  sample_interval?: number;
}

/** `ae` / `oae` sections of the reference's eval configs (`configs_eval/*.json`). */
export interface ReferenceApproximationSection {
  max_dist?: number;
  alpha?: number;
  niters?: number;
}

export interface ReferenceDatasetSection {
  type: string;
  data_path?: string;
  padding?: number;
  /** mnist_rts_limited: fixed perturbations per training image; cifar10c*: corrupted versions per image (corruptions × severities). */
  k?: number;
  /** cifar10c*: the corruptions of the bank (CIFAR-10-C names) and their severities. */
  corruptions?: string[];
  severity?: number[];
  /** cifar10c*: the same random crop (zero padding `pad`) and horizontal flip on both images of a training pair. */
  cropflip?: { pad: number; crop: [number, number]; flip: boolean };
  /** pertset extension: use only the first N training images (after the validation split). */
  limit?: number;
  /** pertset extension: use only the first N validation images. */
  validation_limit?: number;
}

export interface ReferenceConfig {
  model: ReferenceModelSection;
  perturbation: ReferencePerturbationSection;
  output_dir?: string;
  training: ReferenceTrainingSection;
  eval?: ReferenceEvalSection;
  dataset: ReferenceDatasetSection;
  ae?: ReferenceApproximationSection;
  oae?: ReferenceApproximationSection;
  /** pertset extension (the reference hard-codes `torch.manual_seed(1)`). */
  seed?: number;
  device?: string;
}
