/**
 * Progress for long CLI commands: a `cli-progress` bar on a terminal, plain lines (at most one
 * every few seconds) when the output is a file or pipe. With `--json`, everything but the final
 * JSON object goes to stderr, including anything libraries print with `console.log` (tfjs's
 * banner), so stdout holds exactly one JSON object.
 */
import { SingleBar, Presets } from 'cli-progress';
import { clearInterrupt, requestInterrupt } from '../api/interrupt';

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
