/**
 * `run.json` in a run directory: what ran (config, seed, backend), on which data (name and
 * source of every split) and how it ended. Rewritten atomically whenever the status changes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError } from '../errors';
import { writeFileAtomic } from './atomic-dir';

export const RUN_FILE = 'run.json';

export type RunStatus = 'created' | 'running' | 'paused' | 'interrupted' | 'finished' | 'diverged' | 'failed';

export interface RunRecord {
  version: 1;
  name: string;
  /** Where the config came from (file path or `builtin:<name>`). */
  configSource: string;
  /** The effective reference-schema config. */
  config: unknown;
  seed: number;
  backend: { name: string; requested: string; threads: number } | null;
  /** `describe()` of the training and validation pairs: dataset name, source folder, files, perturbation. */
  dataset: { train: unknown; val: unknown };
  status: RunStatus;
  /** Next epoch / global step. */
  epoch: number;
  globalStep: number;
  message?: string;
  /** `failed`: the write that failed (system error code and path). */
  error?: { code: string; path: string };
  createdAt: string;
  updatedAt: string;
}

/**
 * The path a run folder is recorded under where another run refers to it (a robust run's
 * `attack.checkpoint`, an evaluation's CVAE): absolute, with links resolved, so a folder reached
 * through a link (`pertset reproduce --runs`) names the same set as the folder itself.
 */
export function runDirIdentity(dir: string): string {
  const absolute = path.resolve(dir);
  return fs.existsSync(absolute) ? fs.realpathSync(absolute) : absolute;
}

export function runRecordPath(runDir: string): string {
  return path.join(runDir, RUN_FILE);
}

export function writeRunRecord(runDir: string, record: RunRecord): void {
  writeFileAtomic(runRecordPath(runDir), JSON.stringify({ ...record, updatedAt: new Date().toISOString() }, null, 1));
}

/** The run's record; a clear error when `runDir` is not a run directory. */
export function readRunRecord(runDir: string): RunRecord {
  const file = runRecordPath(runDir);
  if (!fs.existsSync(runDir)) throw new CheckpointError(`run directory ${runDir} does not exist`);
  if (!fs.existsSync(file)) throw new CheckpointError(`${runDir} is not a pertset run directory (no ${RUN_FILE}; create one with \`pertset train --out ${runDir}\`)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  } catch (e) {
    throw new CheckpointError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

/** `createdAt` of an existing run record (kept across resumptions), or undefined. */
export function existingCreatedAt(runDir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(runRecordPath(runDir), 'utf8')) as RunRecord).createdAt;
  } catch {
    return undefined;
  }
}
