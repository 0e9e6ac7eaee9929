/**
 * One kernel session: tslab's executor with the API preloaded, execution counts, history,
 * rich results, errors and interrupts. Transport-free: the server passes a `CellIO` per cell,
 * which makes this testable without ZeroMQ.
 */
import { expandShorthandProperties } from './cell-source';
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import { clearInterrupt, interruptChecks, requestInterrupt } from '../api/interrupt';
import { resultBundle } from '../api/display/display';
import { setDisplaySink } from '../api/display/sink';
import type { MimeBundle } from '../contract/mime';
import { compileError, runtimeError, type CellError } from './cell-errors';
import { History, type HistoryRequest } from './history';
import { preambleSource } from './preamble';
import { createConverterSet, createExecutor, isCompleteCode, printQuickInfo, setTslabDisplayWriter, tslabVersion, typescriptVersion, type Executor } from './tslab';

/** Display content as Jupyter carries it in display_data / update_display_data. */
export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** Where one cell's outputs go (iopub messages with the cell's request as parent). */
export interface CellIO {
  /** The cell starts running (the server publishes `busy`). */
  begin(): void;
  executeInput(code: string, count: number): void;
  stream(name: 'stdout' | 'stderr', text: string): void;
  displayData(content: DisplayContent, update: boolean): void;
  clearOutput(wait: boolean): void;
  executeResult(count: number, bundle: MimeBundle): void;
  error(err: CellError): void;
  /** Resolves once everything published so far has left the kernel (awaited before the cell's code runs). */
  sent(): Promise<void>;
}

export interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
}

export type ExecuteReply =
  | { status: 'ok'; execution_count: number; payload: object[]; user_expressions: object }
  | ({ status: 'error'; execution_count: number } & CellError);

/** What the executor reported through its console during one `execute`. */
interface Capture {
  result?: { value: unknown };
  thrown?: { value: unknown };
  diagnostics: string[];
}

/** `name?` pages the inspection of `name` (as IPython's `obj?`): not valid TypeScript, so unambiguous. */
const PAGE_REQUEST = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\?\s*$/;

function packageVersion(): string {
  const pkg = path.resolve(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export class KernelSession {
  readonly history = new History();
  private executor!: Executor;
  private markReady!: () => void;
  private count = 0;
  private capture: Capture = { diagnostics: [] };
  private io: CellIO | undefined;
  /** The running cell: its interrupt-check baseline, so SIGINT can tell cooperative loops apart. */
  private running: { checksAtStart: number; interruptRequested: boolean } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly ready: Promise<void>;
  /** Why the preamble failed; shown once, on the first cell's stderr. */
  private preambleFailure: string | undefined;

  constructor(private readonly options: { preload?: boolean } = {}) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    setDisplaySink({
      display: (bundle, displayId, update) =>
        this.io?.displayData({ data: bundle.data, metadata: bundle.metadata ?? {}, transient: displayId ? { display_id: displayId } : {} }, update),
      clear: (wait) => this.io?.clearOutput(wait),
    });
  }

  /**
   * Creates tslab's TypeScript program and runs the preamble: seconds of synchronous work, so
   * the launcher calls this once the sockets answer (the client sees the kernel as ready), and
   * requests that need the program wait for the promise it returns.
   */
  start(): Promise<void> {
    if (this.executor) return this.ready;
    const capture = () => this.capture;
    this.executor = createExecutor(process.cwd(), createConverterSet(), {
      // tslab's executor logs exactly three things: the last expression's value (log), a thrown
      // value (error with one argument) and TypeScript diagnostics (error with a format string).
      log: (value: unknown) => {
        capture().result = { value };
      },
      error: (first: unknown, ...rest: unknown[]) => {
        if (rest.length === 0) capture().thrown = { value: first };
        else capture().diagnostics.push(format(first, ...rest).trim());
      },
    });
    setTslabDisplayWriter((data, update) => this.io?.displayData(data as DisplayContent, update));
    const preamble = this.options.preload === false ? Promise.resolve() : this.runPreamble();
    void preamble.then(this.markReady);
    return this.ready;
  }

  /**
   * Imports the API as `pertset` (and `display`, `tf`) before the first cell, and starts
   * pertset's backend, so plain `tf` calls in the first cell already run on it (not on tfjs's
   * default `cpu`, which prints a banner asking to install tfjs-node).
   */
  private async runPreamble(): Promise<void> {
    this.capture = { diagnostics: [] };
    const ok = await this.executor.execute(preambleSource());
    if (!ok) {
      const why = this.capture.diagnostics.join('\n') || String(this.capture.thrown?.value);
      this.preambleFailure = `pertset kernel: loading the API failed, cells run without \`pertset\`:\n${why}\n`;
      debugLog(this.preambleFailure);
      return;
    }
    try {
      // Loaded here, not at the top: TensorFlow.js takes ~0.4 s to load, which must not delay
      // the kernel's first kernel_info_reply (the preamble above has just loaded it anyway).
      const { initBackend } = await import('../api/backend');
      const backend = await initBackend();
      debugLog(`backend ${backend.name} (${backend.notes.join('; ')})`);
    } catch (e) {
      // E.g. PERTSET_BACKEND names a backend that cannot start: say so on the first cell.
      this.preambleFailure = `pertset kernel: starting the TensorFlow.js backend failed: ${(e as Error).message}\n`;
      debugLog(this.preambleFailure);
    }
  }

  kernelInfo(): object {
    const ts = typescriptVersion();
    const version = packageVersion();
    return {
      status: 'ok',
      protocol_version: '5.3',
      implementation: 'pertset',
      implementation_version: version,
      language_info: {
        name: 'typescript',
        version: ts,
        mimetype: 'text/typescript',
        file_extension: '.ts',
        pygments_lexer: 'typescript',
        // As tslab: makes both Jupyter Notebook and JupyterLab highlight TypeScript.
        codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
      },
      banner: `pertset ${version}: TypeScript ${ts} (tslab ${tslabVersion()}) on Node.js ${process.version}; the API is loaded as \`pertset\`.`,
    };
  }

  /** Runs cells one after another, in arrival order; an error never cancels the cells queued after it. */
  execute(req: ExecuteRequest, io: CellIO): Promise<ExecuteReply> {
    void this.start();
    const run = this.queue.then(() => this.ready).then(() => this.executeNow(req, io));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async executeNow(req: ExecuteRequest, io: CellIO): Promise<ExecuteReply> {
    io.begin();
    const silent = req.silent === true;
    const store = !silent && req.store_history !== false;
    if (store) this.count++;
    const count = this.count;
    const entry = store ? this.history.add(count, req.code) : undefined;
    if (!silent) io.executeInput(req.code, count);
    this.io = silent ? undefined : io;
    this.redirectStdio(silent ? undefined : io);
    if (this.preambleFailure && !silent) {
      io.stream('stderr', this.preambleFailure);
      this.preambleFailure = undefined;
    }

    const page = PAGE_REQUEST.exec(req.code);
    if (page) return { status: 'ok', execution_count: count, payload: this.pagePayload(page[1]), user_expressions: {} };

    clearInterrupt();
    this.capture = { diagnostics: [] };
    this.running = { checksAtStart: interruptChecks(), interruptRequested: false };
    let ok: boolean;
    debugLog(`cell ${count} starts`);
    // busy and execute_input must be out before the code runs: output printed before a
    // synchronous busy loop can then go out at once (and be seen, and interrupted).
    await io.sent();
    try {
      ok = await this.executor.execute(expandShorthandProperties(req.code));
    } finally {
      this.running = undefined;
    }
    debugLog(`cell ${count} ends (${ok ? 'ok' : 'error'})`);
    const cap = this.capture;
    if (!ok) {
      const err = cap.thrown ? runtimeError(cap.thrown.value) : compileError(cap.diagnostics.length ? cap.diagnostics : ['the cell failed']);
      if (!silent) io.error(err);
      return { status: 'error', execution_count: count, ...err };
    }
    // `//%module` cells succeed with diagnostics: show them as warnings.
    if (cap.diagnostics.length && !silent) io.stream('stderr', cap.diagnostics.join('\n') + '\n');
    if (cap.result && !silent) {
      try {
        const bundle = resultBundle(cap.result.value);
        if (bundle) {
          io.executeResult(count, bundle);
          if (entry) entry.output = String(bundle.data['text/plain'] ?? '');
        }
      } catch (e) {
        const err = runtimeError(e);
        io.error(err);
        return { status: 'error', execution_count: count, ...err };
      }
    }
    return { status: 'ok', execution_count: count, payload: [], user_expressions: {} };
  }

  private pagePayload(name: string): object[] {
    const info = this.executor.inspect(name, name.length);
    const text = info ? printQuickInfo(info) : `${name}: nothing known about this name`;
    return [{ source: 'page', data: { 'text/plain': text }, start: 0 }];
  }

  /** Like ipykernel, output written after a cell ended (timers, training callbacks) goes to the last cell. */
  private redirectStdio(io: CellIO | undefined): void {
    const writer = (name: 'stdout' | 'stderr') => (chunk: string | Uint8Array, encodingOrCb?: unknown, cb?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      io?.stream(name, text);
      const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    };
    process.stdout.write = writer('stdout') as typeof process.stdout.write;
    process.stderr.write = writer('stderr') as typeof process.stderr.write;
  }

  /**
   * SIGINT. Asks cooperative loops (training, attacks) to stop at their next step boundary; if
   * the running cell has not checked for interrupts since it started (an `await` on something
   * else), aborts the cell's await at once, as tslab does. A second interrupt always aborts.
   * Synchronous busy code is broken by vm's `breakOnSigint` without reaching this handler.
   */
  interrupt(): void {
    requestInterrupt();
    const cell = this.running;
    const cooperative = cell !== undefined && interruptChecks() !== cell.checksAtStart;
    debugLog(`SIGINT: ${cell ? `cell running, ${cooperative ? 'cooperative' : 'not cooperative'}${cell.interruptRequested ? ', repeated' : ''}` : 'idle'}`);
    if (!cell) return;
    if (!cooperative || cell.interruptRequested) this.executor.interrupt();
    cell.interruptRequested = true;
  }

  isComplete(code: string): { status: 'complete' | 'incomplete' | 'invalid'; indent?: string } {
    const res = isCompleteCode(code);
    if (!res.completed) return { status: 'incomplete', indent: res.indent ?? '' };
    return hasSyntaxErrors(code) ? { status: 'invalid' } : { status: 'complete' };
  }

  inspect(code: string, cursorPos: number): object {
    const info = this.executor.inspect(code, cursorPos);
    if (!info) return { status: 'ok', found: false, data: {}, metadata: {} };
    return { status: 'ok', found: true, data: { 'text/plain': printQuickInfo(info) }, metadata: {} };
  }

  complete(code: string, cursorPos: number): object {
    const info = this.executor.complete(code, cursorPos);
    return { status: 'ok', matches: info.candidates, cursor_start: info.start, cursor_end: info.end, metadata: {} };
  }

  close(): void {
    this.executor?.close();
  }
}

/** With PERTSET_KERNEL_DEBUG=1, kernel events go to the real stderr (the process's fd 2, not a cell). */
function debugLog(message: string): void {
  if (process.env.PERTSET_KERNEL_DEBUG === '1') fs.writeSync(2, `[pertset kernel ${new Date().toISOString()}] ${message}\n`);
}

/** Parse errors anywhere in the code (not only "expected at the end", which means incomplete). */
function hasSyntaxErrors(code: string): boolean {
  if (PAGE_REQUEST.test(code)) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('@tslab/typescript-for-tslab') as typeof import('@tslab/typescript-for-tslab');
  const sf = ts.createSourceFile('cell.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return ((sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics?.length ?? 0) > 0;
}
