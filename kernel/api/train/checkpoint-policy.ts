/**
 * Which checkpoints a training run writes, and when (as the reference's `train.py`, plus
 * mid-epoch saves): "latest" at every epoch end, every `checkpointSteps` optimiser steps and on
 * interrupt; "best" when the validation loss improved (written before "latest"); `epoch-NNN` every `checkpoint_interval`
 * epochs ("skip" writes neither best nor numbered ones). Remembers the last good "latest" so a
 * divergence message can say what is kept.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { CVAE } from '../models/types';
import { writeDirAtomic, type AtomicWriteHooks } from '../runs/atomic-dir';
import { checkpointExists, MODEL_FILE, readTrainerState, saveCheckpoint, TRAINER_FILE, WEIGHTS_FILE, type TrainerStateJson } from '../runs/checkpoint';
import type { TrainingOptimizer } from './optimizer';

export const CHECKPOINTS_DIR = 'checkpoints';

export type TrainerState = Omit<TrainerStateJson, 'optimizer' | 'savedAt'>;

export class CheckpointPolicy {
  /** The "latest" checkpoint last written (or resumed from). */
  lastGood: { dir: string; globalStep: number } | null = null;

  constructor(
    /** Run directory, or null when nothing is persisted. */
    readonly runDir: string | null,
    /** "latest" every N optimiser steps within an epoch (0: only at epoch ends). */
    private readonly everySteps: number,
    /** `training.checkpoint_interval`: numbered checkpoints every N epochs; null: no best or numbered ones. */
    private readonly interval: number | null,
    private readonly hooks?: AtomicWriteHooks,
  ) {}

  get latestDir(): string | null {
    return this.runDir ? path.join(this.runDir, CHECKPOINTS_DIR, 'latest') : null;
  }
  get bestDir(): string | null {
    return this.runDir ? path.join(this.runDir, CHECKPOINTS_DIR, 'best') : null;
  }

  /** Whether to write "latest" after global step `globalStep` (not at an epoch end: that one follows anyway). */
  dueMidEpoch(globalStep: number, epochDone: boolean): boolean {
    return this.runDir !== null && this.everySteps > 0 && globalStep % this.everySteps === 0 && !epochDone;
  }

  /** Writes "latest" with the optimiser state; returns its directory (null when not persisting). */
  async saveLatest(model: CVAE, state: TrainerState, optimizer: TrainingOptimizer): Promise<string | null> {
    const dir = this.latestDir;
    if (!dir) return null;
    const tensors = optimizer.getState();
    try {
      await saveCheckpoint(dir, { model, trainer: state, optimizer: { kind: optimizer.kind, state: tensors }, hooks: this.hooks });
    } finally {
      tf.dispose(tensors.map((s) => s.tensor));
    }
    this.lastGood = { dir, globalStep: state.globalStep };
    return dir;
  }

  /**
   * After epoch `epochsDone` (1-based count): "best" if `improved`, then "latest", then the numbered
   * one when due. "best" comes first so that a "best" exists whenever "latest" records a finished
   * epoch: a kill before "latest" is written (even during best's write) resumes before the
   * epoch's end, and finishing the epoch again writes "best" again.
   */
  async afterEpoch(model: CVAE, state: TrainerState, optimizer: TrainingOptimizer, epochsDone: number, improved: boolean): Promise<void> {
    if (!this.runDir) return;
    if (this.interval !== null && improved) await saveCheckpoint(this.bestDir!, { model, trainer: state, hooks: this.hooks });
    await this.saveLatest(model, state, optimizer);
    if (this.interval === null) return;
    if (epochsDone % this.interval === 0) {
      await saveCheckpoint(path.join(this.runDir, CHECKPOINTS_DIR, `epoch-${String(epochsDone).padStart(3, '0')}`), { model, trainer: state, hooks: this.hooks });
    }
  }

  /**
   * On resume: when a finished epoch is recorded but "best" is missing (deleted, or a run written
   * before "best" came first), rebuild it from the epoch-end checkpoint with the lowest validation
   * loss among those on disk ("latest" at an epoch end, `epoch-NNN`). Returns that directory, or null.
   */
  restoreBest(): string | null {
    if (!this.runDir || this.interval === null || checkpointExists(this.bestDir!)) return null;
    const root = path.join(this.runDir, CHECKPOINTS_DIR);
    const dirs = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => d === 'latest' || /^epoch-\d+$/.test(d)).map((d) => path.join(root, d)) : [];
    let chosen: { dir: string; state: TrainerStateJson; loss: number } | null = null;
    for (const dir of dirs) {
      const state = checkpointExists(dir) ? readTrainerState(dir) : null;
      if (!state || state.step !== 0 || state.epoch < 1) continue;
      const loss = (state.history[state.epoch - 1] as { validation?: { loss?: number } } | undefined)?.validation?.loss ?? Infinity;
      if (!chosen || loss < chosen.loss) chosen = { dir, state, loss };
    }
    if (!chosen) return null;
    const trainer: TrainerStateJson = { ...chosen.state, optimizer: null };
    writeDirAtomic(this.bestDir!, [
      [WEIGHTS_FILE, fs.readFileSync(path.join(chosen.dir, WEIGHTS_FILE))],
      [MODEL_FILE, fs.readFileSync(path.join(chosen.dir, MODEL_FILE), 'utf8')],
      [TRAINER_FILE, JSON.stringify(trainer, null, 1)],
    ]);
    return chosen.dir;
  }

  /** What a failed write says is intact. */
  describeIntact(): string {
    return this.lastGood ? `the checkpoint at step ${this.lastGood.globalStep} (${this.lastGood.dir}) is intact` : 'no checkpoint had been written yet';
  }

  /** What a divergence error says is kept. */
  describeKept(): string {
    return this.lastGood
      ? `the last good checkpoint (global step ${this.lastGood.globalStep}) is kept at ${this.lastGood.dir}`
      : 'no checkpoint was written yet; the model keeps its last good weights in memory';
  }
}
