/**
 * Progress for long CLI commands: a `cli-progress` bar on a terminal, plain lines (at most one
 * every few seconds) when the output is a file or pipe. With `--json`, everything but the final
 * JSON object goes to stderr, including anything libraries print with `console.log` (tfjs's
 * banner), so stdout holds exactly one JSON object.
 */
import { SingleBar, Presets } from 'cli-progress';
import { InterruptedError } from '../api/errors';
import { clearInterrupt, requestInterrupt } from '../api/interrupt';
import type { StepProgress } from '../api/train/events';
import type { LoopConfig, RunLoop } from '../api/train/run-loop';

export interface Progress {
  /** Sets the position (`value` of `total`) and the named fields shown on the bar or line. */
  update(value: number, fields?: Record<string, string | number>): void;
  /** Prints a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  /** Bar format with {bar}, {value}, {total}, {percentage} and the field names. */
  format: string;
  /** Plain-line form: a function of the fields. */
  line: (value: number, total: number, fields: Record<string, string | number>) => string;
  /** Where progress goes: `stdout` (human output) or `stderr` (when stdout carries JSON). */
  stream: 'stdout' | 'stderr';
  /** Seconds between plain lines (default 5). */
  lineInterval?: number;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream === 'stdout' ? process.stdout : process.stderr;
  const print = (s: string) => stream.write(`${s}\n`);
  if (stream.isTTY) {
    const bar = new SingleBar({ format: options.format, stream, hideCursor: true, clearOnComplete: true, etaBuffer: 20 }, Presets.shades_classic);
    let started = false;
    let last: Record<string, string | number> = {};
    return {
      update(value, fields = {}) {
        last = { ...last, ...fields };
        if (!started) {
          bar.start(options.total, value, last);
          started = true;
        } else bar.update(value, last);
      },
      log(line) {
        if (!started) return print(line);
        // cli-progress owns its line between start and stop: stop it (which clears the line and
        // leaves the cursor there), print ours, and start a fresh bar below.
        const value = bar.getProgress() * options.total;
        bar.stop();
        print(line);
        bar.start(options.total, Math.round(value), last);
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  const every = (options.lineInterval ?? 5) * 1000;
  let lastLine = 0;
  let pending: string | null = null;
  return {
    update(value, fields = {}) {
      const now = Date.now();
      const line = options.line(value, options.total, fields);
      if (now - lastLine >= every || value >= options.total) {
        print(line);
        lastLine = now;
        pending = null;
      } else pending = line;
    },
    log(line) {
      print(line);
    },
    stop() {
      if (pending) print(pending);
      pending = null;
    },
  };
}

/**
 * Runs `fn` with `console.log` sent to stderr when `json` is set, then returns its result; the
 * caller prints the one JSON object afterwards.
 */
export async function withStdoutReserved<T>(json: boolean, fn: () => Promise<T>): Promise<T> {
  if (!json) return fn();
  const original = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    return await fn();
  } finally {
    console.log = original;
  }
}

/** Ctrl-C handling: the first press asks the running loop to stop (it saves and exits); a second one exits at once. */
export function onInterrupt(request: () => void, message: string): () => void {
  let presses = 0;
  const handler = () => {
    presses++;
    if (presses === 1) {
      process.stderr.write(`\n${message}\n`);
      request();
    } else {
      process.stderr.write('\ninterrupted again: exiting without saving\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/**
 * Runs long work with Ctrl-C wired to the cooperative interrupt (`onInterrupt`): a stale request
 * is cleared first, and the handler is removed however `fn` ends.
 */
export async function interruptible<T>(message: string, fn: () => Promise<T>): Promise<T> {
  clearInterrupt();
  const release = onInterrupt(requestInterrupt, message);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Any trainer on the shared run loop, and the events it reports. */
type AnyTrainer = RunLoop<LoopConfig, StepProgress, { epoch: number }, unknown>;
type ProgressOf<T> = T extends RunLoop<LoopConfig, infer P, { epoch: number }, unknown> ? P : never;
type SummaryOf<T> = T extends RunLoop<LoopConfig, StepProgress, infer S, unknown> ? S : never;

/** How a training command shows its trainer's run. */
export interface TrainingView<Trainer extends AnyTrainer, Progress = ProgressOf<Trainer>, Summary = SummaryOf<Trainer>> {
  /** The lines before training that only this command has (config, data, the CVAE). */
  header(trainer: Trainer): void;
  /** Bar format and plain-line form (as `ProgressOptions`), fed with `fields(progress)` after every step. */
  format: string;
  line: ProgressOptions['line'];
  fields(p: Progress): Record<string, string | number>;
  /** The line printed after every epoch. */
  epochLine(e: Summary): string;
  /** What to run next, printed when training ends. */
  next?(trainer: Trainer): string;
}

/**
 * The body of every training command: creates the trainer (`create`; with `--json`, all output
 * but the final JSON object goes to stderr), prints its header, the backend, the run folder and
 * whether it resumes, trains with a progress bar and Ctrl-C wired to the cooperative interrupt,
 * and prints `{status, epochs, globalStep, runDir, history}` with `--json`. Returns the exit code
 * (130 when interrupted, after the checkpoint is saved).
 */
export async function trainingCommand<Trainer extends AnyTrainer>(json: boolean, create: () => Promise<Trainer>, view: TrainingView<Trainer>): Promise<number> {
  const out = await withStdoutReserved(json, async () => {
    const trainer = await create();
    try {
      view.header(trainer);
      console.log(`backend: ${trainer.backend?.name ?? 'unknown'}`);
      console.log(`run:     ${trainer.runDir}`);
      const stale = trainer.runLock?.tookOver;
      if (stale) console.log(`note:    took over the run's lock from \`${stale.command}\` (pid ${stale.pid}, started ${stale.startedAt}), which is no longer running`);
      const summary = () => ({ status: trainer.finished ? 'finished' : 'paused', epochs: trainer.history.length, globalStep: trainer.globalStep, runDir: trainer.runDir, history: trainer.history });
      const epochs = trainer.config.training.epochs;
      if (trainer.finished) {
        console.log(`the run is already complete (${trainer.history.length}/${epochs} epochs, ${trainer.globalStep} steps); use another --out to train again`);
        return { code: 0, summary: summary() };
      }
      if (trainer.globalStep > 0) console.log(`resuming at epoch ${trainer.epoch + 1}, step ${trainer.step}/${trainer.stepsPerEpoch} (global step ${trainer.globalStep})`);
      const progress = createProgress({ total: epochs * trainer.stepsPerEpoch, stream: json ? 'stderr' : 'stdout', format: view.format, line: view.line });
      try {
        await interruptible('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)', () =>
          trainer.run({
            callbacks: {
              onBatchEnd: (p) => progress.update(p.globalStep, view.fields(p as ProgressOf<Trainer>)),
              onEpochEnd: (e) => progress.log(view.epochLine(e as SummaryOf<Trainer>)),
            },
          }),
        );
        progress.stop();
        console.log(`done: ${trainer.globalStep} steps; checkpoints in ${trainer.latestCheckpoint} (best: ${trainer.bestCheckpoint})`);
        if (view.next) console.log(`next: ${view.next(trainer)}`);
        return { code: 0, summary: summary() };
      } catch (e) {
        progress.stop();
        if (e instanceof InterruptedError) {
          console.error(e.message);
          return { code: 130, summary: null };
        }
        throw e;
      }
    } finally {
      trainer.dispose();
    }
  });
  if (json && out.summary) process.stdout.write(`${JSON.stringify(out.summary)}\n`);
  return out.code;
}

/** A number for a progress line: 4 significant digits (`digits` to change), or NaN/Infinity as is. */
export function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toPrecision(digits) : String(v);
}
