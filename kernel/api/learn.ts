/**
 * `learnPerturbationSet(config)`: the whole recipe of the paper in one call: train the CVAE on the
 * config's pairs, pick ε from the validation latent norms (the maximum, rounded up) and return
 * the set S(x) = { g(x, μ_p + σ_p·u) : ‖u‖₂ ≤ ε } with the trainer and the calibration. A persisted
 * run (the default) resumes its training and writes radius.json beside its checkpoints, as `pertset radius`;
 * a run that had finished before the call is only read.
 *
 * ```ts
 * const { set, calibration } = await pertset.learnPerturbationSet('mnist_fc_linf', { epochs: 1, limit: 2000, persist: false });
 * ```
 */
import type { PertsetConfig } from './config/types';
import { calibrateRadius, type CalibrationCallbacks, type RadiusCalibration } from './evaluate/radius';
import { saveCalibration, savedCalibration } from './evaluate/run';
import { PerturbationSet } from './models/perturbation-set';
import { radiusPairs } from './pairs/config-pairs';
import type { TrainCallbacks } from './train/events';
import type { TrainerOptions } from './train/options';
import { Trainer } from './train/trainer';

export interface LearnOptions extends TrainerOptions {
  /** Passes over the validation pairs for ε, each with fresh perturbations (reference: 5 for MNIST). */
  radiusPasses?: number;
  /** Aborting stops training or calibration like an interrupt. */
  signal?: AbortSignal;
  /** Training's `onBatchEnd`/`onEpochEnd` (e.g. a `display.liveTraining()`); calibration's `onCalibrationBatchEnd`. */
  callbacks?: TrainCallbacks & { onCalibrationBatchEnd?: CalibrationCallbacks['onBatchEnd'] };
}

export interface LearnedSet {
  config: PertsetConfig;
  trainer: Trainer;
  calibration: RadiusCalibration;
  /** The learned set at the calibrated radius. */
  set: PerturbationSet;
}

/** Trains (or resumes) `config`, calibrates ε on its validation pairs and returns the learned set. */
export async function learnPerturbationSet(config: string | PertsetConfig, options: LearnOptions = {}): Promise<LearnedSet> {
  const { radiusPasses, signal, callbacks, ...trainerOptions } = options;
  const trainer = await Trainer.create(config, trainerOptions);
  await trainer.run({ signal, callbacks });
  const pairs = radiusPairs(trainer.config);
  const passes = radiusPasses ?? 5;
  // A persisted run records its ε in radius.json, as `pertset radius` does, and reuses it while the checkpoint is the same.
  let calibration = trainer.runDir ? savedCalibration(trainer.runDir, { globalStep: trainer.globalStep, passes, pairs: pairs.count }) : null;
  if (!calibration) {
    calibration = await calibrateRadius(trainer.model, pairs, { passes, signal, callbacks: { onBatchEnd: callbacks?.onCalibrationBatchEnd } });
    // A run finished before this call is only read (see `Trainer.readOnly`): ε is computed, not saved into it.
    if (trainer.runDir && !trainer.readOnly) {
      saveCalibration(trainer.runDir, calibration, { dataset: pairs.describe(), checkpoint: trainer.latestCheckpoint ?? trainer.runDir, globalStep: trainer.globalStep });
    }
  }
  return { config: trainer.config, trainer, calibration, set: new PerturbationSet(trainer.model, calibration.radius) };
}
