/** What a robust training run reports while it runs (the CLI's progress bar, a notebook's live chart). */
import type { Callback } from '../callbacks';

export interface RobustProgress {
  /** 0-based epoch and step within it; `globalStep` counts every optimiser step ever taken. */
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  /** The step's training loss (per-example mean of the method's objective). */
  loss: number;
  /** Accuracy on the inputs trained on (clean, augmented or adversarial, by method). */
  accuracy: number;
  /** cvae_attack: mean CE on the clean and on the adversarial inputs. */
  cleanLoss?: number;
  adversarialLoss?: number;
  lr: number;
  stepsPerSecond: number;
  elapsed: number;
}

export interface RobustEpochSummary {
  epoch: number;
  train: { loss: number; accuracy: number };
  /** Clean validation accuracy and cross-entropy (eval mode). */
  validation: { accuracy: number; loss: number };
  seconds: number;
}

/** `RobustTrainer.run({ callbacks })`: after every step, every epoch, and once when `run` returns or throws. */
export interface RobustTrainCallbacks {
  onBatchEnd?: Callback<RobustProgress>;
  onEpochEnd?: Callback<RobustEpochSummary>;
  onTrainEnd?: Callback<{ epoch: number; globalStep: number }>;
}
