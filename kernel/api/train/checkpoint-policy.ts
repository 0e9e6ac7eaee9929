/**
 * Which checkpoints a training run writes, and when (as the reference's `train.py`, plus
 * mid-epoch saves): "latest" at every epoch end, every `checkpointSteps` optimiser steps and on
 * interrupt; "best" when the trainer's validation metric improved (written before "latest");
 * `epoch-NNN` every `checkpoint_interval` epochs ("skip" writes neither best nor numbered ones).
 * The trainer's `CheckpointWriter` says how a folder is written (CVAE or classifier). Remembers
 * the last good "latest" so a divergence message can say what is kept.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeDirAtomic, type AtomicWriteHooks } from '../runs/atomic-dir';
import { checkpointExists, MODEL_FILE, readTrainerState, TRAINER_FILE, WEIGHTS_FILE, type NamedTensor, type TrainerStateJson } from '../runs/checkpoint';
import type { TrainingOptimizer } from './optimizer';

export const CHECKPOINTS_DIR = 'checkpoints';

export type TrainerState = Omit<TrainerStateJson, 'optimizer' | 'savedAt'>;

/** Writes one checkpoint folder atomically in the trainer's format (the model, `trainer.json`, the optimiser state for "latest"). */
export type CheckpointWriter = (dir: string, files: { trainer: object; optimizer?: { kind: string; state: NamedTensor[] }; hooks?: AtomicWriteHooks }) => Promise<void>;

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
    private readonly write: CheckpointWriter,
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

  /** Writes "latest" (`state` at global step `globalStep`) with the optimiser state; returns its directory (null when not persisting). */
  async saveLatest(state: object, globalStep: number, optimizer: TrainingOptimizer): Promise<string | null> {
    const dir = this.latestDir;
    if (!dir) return null;
    const tensors = optimizer.getState();
    try {
      await this.write(dir, { trainer: state, optimizer: { kind: optimizer.kind, state: tensors }, hooks: this.hooks });
    } finally {
      tf.dispose(tensors.map((s) => s.tensor));
    }
    this.lastGood = { dir, globalStep };
    return dir;
  }

  /**
   * After epoch `epochsDone` (1-based count): "best" if `improved`, then "latest", then the numbered
   * one when due. "best" comes first so that a "best" exists whenever "latest" records a finished
   * epoch: a kill before "latest" is written (even during best's write) resumes before the
   * epoch's end, and finishing the epoch again writes "best" again.
   */
  async afterEpoch(state: object, globalStep: number, optimizer: TrainingOptimizer, epochsDone: number, improved: boolean): Promise<void> {
    if (!this.runDir) return;
    if (this.interval !== null && improved) await this.write(this.bestDir!, { trainer: state, hooks: this.hooks });
    await this.saveLatest(state, globalStep, optimizer);
    if (this.interval === null) return;
    if (epochsDone % this.interval === 0) {
      await this.write(path.join(this.runDir, CHECKPOINTS_DIR, `epoch-${String(epochsDone).padStart(3, '0')}`), { trainer: state, hooks: this.hooks });
    }
  }

  /**
   * On resume: when a finished epoch is recorded but "best" is missing (deleted, or a run written
   * before "best" came first), rebuild it from the epoch-end checkpoint with the best validation
   * `score` of its last epoch (`better`: lower or higher) among those on disk ("latest" at an
   * epoch end, `epoch-NNN`). Returns that directory, or null.
   */
  restoreBest(score: (summary: unknown) => number | undefined, better: 'lower' | 'higher'): string | null {
    if (!this.runDir || this.interval === null || checkpointExists(this.bestDir!)) return null;
    const root = path.join(this.runDir, CHECKPOINTS_DIR);
    const dirs = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => d === 'latest' || /^epoch-\d+$/.test(d)).map((d) => path.join(root, d)) : [];
    const sign = better === 'lower' ? 1 : -1;
    let chosen: { dir: string; state: TrainerStateJson; cost: number } | null = null;
    for (const dir of dirs) {
      const state = checkpointExists(dir) ? readTrainerState(dir) : null;
      if (!state || state.step !== 0 || state.epoch < 1) continue;
      const value = state.history[state.epoch - 1] === undefined ? undefined : score(state.history[state.epoch - 1]);
      const cost = value === undefined ? Infinity : sign * value;
      if (!chosen || cost < chosen.cost) chosen = { dir, state, cost };
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
