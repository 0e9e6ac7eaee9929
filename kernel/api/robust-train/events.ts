/**
 * What a robust training run reports (the CLI's progress bar, a notebook's live chart): the shared
 * training events (../train/events.ts) with the robust trainer's figures.
 */
import type { StepProgress, TrainCallbacks } from '../train/events';

/** A robust training step: `loss` is the method's objective per example. */
export interface RobustProgress extends StepProgress {
  /** Accuracy on the inputs trained on (clean, augmented or adversarial, by method). */
  accuracy: number;
  /** cvae_attack: mean CE on the clean and on the adversarial inputs. */
  cleanLoss?: number;
  adversarialLoss?: number;
}

export interface RobustEpochSummary {
  epoch: number;
  train: { loss: number; accuracy: number };
  /** Clean validation accuracy and cross-entropy (eval mode). */
  validation: { accuracy: number; loss: number };
  seconds: number;
}

/** `RobustTrainer.run({ callbacks })`: after every step, every epoch, and once when `run` returns or throws. */
export type RobustTrainCallbacks = TrainCallbacks<RobustProgress, RobustEpochSummary>;

