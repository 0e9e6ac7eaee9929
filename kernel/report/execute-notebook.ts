/**
 * Runs a notebook top to bottom in our own kernel (the launcher in this package, over the Jupyter
 * protocol client the VS Code extension uses), with no Jupyter server and no Python, and returns
 * it with its outputs: the same messages, mapped the same way, as a notebook run in the editor.
 */
import * as path from 'path';
import { PertsetError } from '../api/errors';
import { CellOutputBuilder, KernelSession, type MappedOutput } from '../jupyter/client';
import { sourceText, toNotebookOutput, type CodeCell, type DisplayOutput, type Notebook } from './nbformat';

/** The kernel launcher of this package (dist/kernel/jupyter/launcher.js beside dist/kernel/report/). */
export const KERNEL_LAUNCHER = path.join(__dirname, '..', 'jupyter', 'launcher.js');

export class CellExecutionError extends PertsetError {
  constructor(
    readonly cellIndex: number,
    readonly ename: string,
    readonly evalue: string,
  ) {
    super(`cell ${cellIndex + 1} failed: ${ename}: ${evalue}`);
    this.name = 'CellExecutionError';
  }
}

export interface ExecuteNotebookCallbacks {
  /** Before code cell `index` (0-based among all cells) runs; `codeIndex` of `codeCells` counts code cells only. */
  onCellStart?(info: { index: number; codeIndex: number; codeCells: number }): void;
  onCellEnd?(info: { index: number; codeIndex: number; codeCells: number; seconds: number; status: string }): void;
  /** The visible text of the cell's last stream output changed (progress lines printed by the cell). */
  onStream?(line: string): void;
}

export interface ExecuteNotebookOptions {
  /** Working directory of the kernel: relative run folders of the notebook land here. */
  cwd: string;
  /** Environment of the kernel process (PERTSET_NOTEBOOK_MODE, PERTSET_DATA, ...). */
  env?: NodeJS.ProcessEnv;
  /** A cell that runs longer is interrupted and reported as failed (default: no limit). */
  cellTimeoutSeconds?: number;
  /** Keep going after a failed cell (default false: stop there, as nbconvert does). */
  allowErrors?: boolean;
  callbacks?: ExecuteNotebookCallbacks;
  /** Command line of the kernel; "{connection_file}" is replaced (default: this package's launcher on this Node). */
  kernelArgv?: string[];
  /**
   * Code run after the last cell in the same kernel, outside the notebook: what it prints to
   * stdout is returned as `probe` (e.g. the backend and dataset the cells used).
   */
  probe?: string;
}

export interface ExecutedNotebook {
  notebook: Notebook;
  seconds: number;
  /** The first failed cell, if any (with allowErrors, later cells ran anyway). */
  error?: CellExecutionError;
  /** What the probe printed. */
  probe?: string;
}

const decoder = new TextDecoder();

/** Executes every code cell in order; the returned notebook is a copy with fresh outputs and counts. */
export async function executeNotebook(input: Notebook, options: ExecuteNotebookOptions): Promise<ExecutedNotebook> {
  const notebook: Notebook = JSON.parse(JSON.stringify(input));
  const started = Date.now();
  const session = await KernelSession.start({
    argv: options.kernelArgv ?? [process.execPath, KERNEL_LAUNCHER, '--config-path', '{connection_file}'],
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    kernelName: 'pertset',
  });
  const codeCells = notebook.cells.filter((c) => c.cell_type === 'code').length;
  // Displays by id across the whole notebook: a live chart shown in one cell may be updated from a later one.
  const displays = new Map<string, DisplayOutput[]>();
  let firstError: CellExecutionError | undefined;
  let probe: string | undefined;
  try {
    let codeIndex = 0;
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const code = cell as CodeCell;
      code.outputs = [];
      code.execution_count = null;
      if (firstError && !options.allowErrors) continue;
      options.callbacks?.onCellStart?.({ index, codeIndex, codeCells });
      const cellStarted = Date.now();
      const builder = new CellOutputBuilder();
      const execution = session.execute(sourceText(code.source), {
        onIopub(msg) {
          for (const change of builder.apply(msg)) {
            if (change.kind === 'update-elsewhere') updateElsewhere(displays, change.displayId, change.output);
            else if ((change.kind === 'append' || change.kind === 'replace') && change.output.metadata.outputType === 'stream') {
              const text = decoder.decode(change.output.items[0]?.data ?? new Uint8Array()).trimEnd();
              options.callbacks?.onStream?.(text.slice(text.lastIndexOf('\n') + 1));
            }
          }
        },
      });
      const result = await withTimeout(execution, options.cellTimeoutSeconds, () => session.interrupt());
      code.outputs = builder.outputs.map(toNotebookOutput);
      code.execution_count = result.executionCount;
      for (const out of code.outputs) {
        const id = out.output_type !== 'stream' && out.output_type !== 'error' ? out.transient?.display_id : undefined;
        if (id) displays.set(id, [...(displays.get(id) ?? []), out as DisplayOutput]);
      }
      const status = result.timedOut ? 'timeout' : result.status;
      if (status !== 'ok' && !firstError) {
        const reply = result.reply as { ename?: string; evalue?: string };
        firstError = result.timedOut
          ? new CellExecutionError(index, 'Timeout', `interrupted after ${options.cellTimeoutSeconds} s`)
          : new CellExecutionError(index, String(reply.ename ?? 'Error'), String(reply.evalue ?? ''));
      }
      options.callbacks?.onCellEnd?.({ index, codeIndex, codeCells, seconds: (Date.now() - cellStarted) / 1000, status });
      codeIndex += 1;
    }
    if (options.probe !== undefined) {
      let printed = '';
      await session.execute(options.probe, {
        onIopub(msg) {
          const c = msg.content as { name?: string; text?: string };
          if (msg.header.msg_type === 'stream' && c.name === 'stdout') printed += c.text ?? '';
        },
      }, { storeHistory: false });
      probe = printed;
    }
  } finally {
    await session.shutdown();
  }
  return { notebook, seconds: (Date.now() - started) / 1000, ...(firstError ? { error: firstError } : {}), ...(probe !== undefined ? { probe } : {}) };
}

function updateElsewhere(displays: Map<string, DisplayOutput[]>, displayId: string, output: MappedOutput): void {
  const fresh = toNotebookOutput(output) as DisplayOutput;
  for (const shown of displays.get(displayId) ?? []) {
    shown.data = fresh.data;
    shown.metadata = fresh.metadata;
  }
}

/** Waits for `work`; after `seconds` calls `onTimeout` (an interrupt) and still waits for the reply. */
async function withTimeout<T extends object>(work: Promise<T>, seconds: number | undefined, onTimeout: () => Promise<void>): Promise<T & { timedOut?: boolean }> {
  if (!seconds) return work;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve();
    }, seconds * 1000);
  });
  try {
    await Promise.race([work, timeout]);
    if (timedOut) await onTimeout();
    const result: T = await work;
    return timedOut ? { ...result, timedOut } : result;
  } finally {
    clearTimeout(timer);
  }
}
