/**
 * Keeping a training run's `run.json` current: created (or taken over on resume, keeping
 * `createdAt`) when the trainer starts, rewritten atomically on every status change.
 */
import type { BackendInfo } from '../backend';
import type { PertsetConfig } from '../config/types';
import { existingCreatedAt, writeRunRecord, type RunRecord, type RunStatus } from '../runs/run-record';

export class RunStatusWriter {
  private record: RunRecord;

  constructor(
    private readonly runDir: string,
    config: Pick<PertsetConfig, 'name' | 'source' | 'seed'> & { json: unknown },
    backend: BackendInfo | null,
    dataset: RunRecord['dataset'],
    progress: { epoch: number; globalStep: number },
  ) {
    const createdAt = existingCreatedAt(runDir) ?? new Date().toISOString();
    this.record = {
      version: 1,
      name: config.name,
      configSource: config.source,
      config: config.json,
      seed: config.seed,
      backend: backend ? { name: backend.name, requested: backend.requested, threads: backend.threads } : null,
      dataset,
      status: progress.globalStep > 0 ? 'paused' : 'created',
      epoch: progress.epoch,
      globalStep: progress.globalStep,
      createdAt,
      updatedAt: createdAt,
    };
  }

  get status(): RunStatus {
    return this.record.status;
  }

  /** Records `status` at the given progress (a message only for statuses that need one; `error` for `failed`). */
  set(status: RunStatus, progress: { epoch: number; globalStep: number }, message?: string, error?: RunRecord['error']): void {
    this.record = { ...this.record, status, epoch: progress.epoch, globalStep: progress.globalStep, message, error };
    if (message === undefined) delete this.record.message;
    if (error === undefined) delete this.record.error;
    writeRunRecord(this.runDir, this.record);
  }
}
