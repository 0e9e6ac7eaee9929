/**
 * The NotebookController "Perturbation Sets (TypeScript)" for .ipynb notebooks: one kernel
 * process per notebook, cells executed strictly in the order they were queued, outputs streamed
 * as the kernel sends them, interrupt, restart, and a clear message when the kernel dies.
 */
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { KernelDiedError, KernelSession, describeExit } from '../kernel/jupyter/client';
import { kernelArgv, locateKernel, nodeCommand } from './kernel-locator';
import { CellOutputBuilder, MappedOutput, OutputChange } from '../kernel/jupyter/client';

export const CONTROLLER_ID = 'pertset-kernel';
export const CONTROLLER_LABEL = 'Perturbation Sets (TypeScript)';

interface NotebookKernel {
  session: Promise<KernelSession>;
  /** Cells run one after another, in the order VS Code queued them. */
  queue: Promise<void>;
}

export class PertsetController implements vscode.Disposable {
  private readonly controller: vscode.NotebookController;
  private readonly kernels = new Map<string, NotebookKernel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.OutputChannel,
  ) {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, 'jupyter-notebook', CONTROLLER_LABEL);
    this.controller.supportedLanguages = ['typescript', 'javascript'];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'TypeScript with the pertset API, no Python needed';
    this.controller.executeHandler = (cells, notebook) => this.queueCells(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    this.disposables.push(
      this.controller,
      this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => {
        if (!selected) void this.shutdown(notebook);
      }),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => void this.shutdown(notebook)),
    );
  }

  private kernelFor(notebook: vscode.NotebookDocument): NotebookKernel {
    const key = notebook.uri.toString();
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = { session: this.startSession(notebook), queue: Promise.resolve() };
      kernel.session.catch(() => this.kernels.delete(key)); // a failed start is retried next run
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  private async startSession(notebook: vscode.NotebookDocument): Promise<KernelSession> {
    const config = vscode.workspace.getConfiguration('pertset');
    const location = locateKernel(this.extensionPath, config.get<string>('kernelPath'));
    const { node, env } = nodeCommand(config.get<string>('nodePath'));
    // Relative imports in cells resolve from the notebook's folder, as in Jupyter.
    const cwd = notebook.uri.scheme === 'file'
      ? path.dirname(notebook.uri.fsPath)
      : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
    this.log.appendLine(`Starting kernel (${location.source}): ${location.launcher} in ${cwd}`);
    const session = await KernelSession.start({
      argv: kernelArgv(node, location.launcher),
      cwd,
      env,
      startTimeoutMs: (config.get<number>('kernelStartTimeout') ?? 60) * 1000,
    });
    session.on('stderr', (text) => this.log.append(text));
    session.on('died', (exit) => {
      const message = describeExit(exit);
      this.log.appendLine(message);
      void vscode.window.showErrorMessage(message.split('\n')[0], 'Restart Kernel', 'Show Kernel Log').then((choice) => {
        if (choice === 'Restart Kernel') void this.restart(notebook);
        if (choice === 'Show Kernel Log') this.log.show();
      });
    });
    this.log.appendLine(`Kernel ready (pid ${session.pid}).`);
    return session;
  }

  private queueCells(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = this.kernelFor(notebook);
    // Executions are created now so queued cells show as pending in the UI.
    const executions = cells.map((cell) => this.controller.createNotebookCellExecution(cell));
    // As in Jupyter, a failing cell stops the rest of its run ("Run All" halts at the error).
    const run = async (): Promise<void> => {
      let failed = false;
      for (const execution of executions) {
        if (failed) {
          execution.start(Date.now());
          execution.end(undefined);
        } else {
          failed = !(await this.runCell(execution, kernel));
        }
      }
    };
    kernel.queue = kernel.queue.then(run, run);
    return kernel.queue;
  }

  /** Runs one cell; resolves to whether it succeeded. */
  private async runCell(execution: vscode.NotebookCellExecution, kernel: NotebookKernel): Promise<boolean> {
    execution.start(Date.now());
    await execution.clearOutput();
    if (execution.token.isCancellationRequested) {
      execution.end(undefined);
      return false;
    }
    const builder = new CellOutputBuilder();
    const shown: vscode.NotebookCellOutput[] = [];
    // Output edits are thenables; chaining keeps them in message order.
    let edits: Promise<unknown> = Promise.resolve();
    const applyChange = (change: OutputChange): void => {
      edits = edits.then(() => this.applyChange(execution, shown, change));
    };
    let session: KernelSession | undefined;
    const cancel = execution.token.onCancellationRequested(() => void session?.interrupt());
    try {
      session = await kernel.session;
      const result = await session.execute(execution.cell.document.getText(), {
        onIopub: (msg) => {
          if (msg.header.msg_type === 'execute_input') {
            const count = (msg.content as { execution_count?: number }).execution_count;
            if (typeof count === 'number') execution.executionOrder = count;
          }
          for (const change of builder.apply(msg)) applyChange(change);
        },
      });
      if (typeof result.executionCount === 'number') execution.executionOrder = result.executionCount;
      if (result.status === 'abort') {
        applyChange({ kind: 'append', output: errorOutput('NotRun', 'The kernel skipped this cell because an earlier cell failed.') });
      }
      await edits;
      execution.end(result.status === 'ok', Date.now());
      return result.status === 'ok';
    } catch (err) {
      const e = err as Error;
      const name = err instanceof KernelDiedError ? 'KernelDied' : e.name || 'Error';
      applyChange({ kind: 'append', output: errorOutput(name, e.message) });
      await edits.catch(() => undefined);
      execution.end(false, Date.now());
      return false;
    } finally {
      cancel.dispose();
    }
  }

  private async applyChange(execution: vscode.NotebookCellExecution, shown: vscode.NotebookCellOutput[], change: OutputChange): Promise<void> {
    switch (change.kind) {
      case 'append': {
        const output = toNotebookOutput(change.output);
        shown.push(output);
        await execution.appendOutput(output);
        break;
      }
      case 'replace':
        await execution.replaceOutputItems(toItems(change.output), shown[change.index]);
        break;
      case 'clear':
        shown.length = 0;
        await execution.clearOutput();
        break;
      case 'update-elsewhere':
        // VS Code only lets a running execution edit outputs, so displays of finished cells stay as they were.
        this.log.appendLine(`update_display_data for display ${change.displayId} of another cell ignored`);
        break;
    }
  }

  async interrupt(notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = this.kernels.get(notebook.uri.toString());
    if (kernel) await (await kernel.session).interrupt();
  }

  /** Restarts the notebook's kernel; false when none was started for it yet. */
  async restart(notebook: vscode.NotebookDocument): Promise<boolean> {
    const kernel = this.kernels.get(notebook.uri.toString());
    if (!kernel) return false;
    const session = await kernel.session;
    this.log.appendLine('Restarting kernel...');
    await session.restart();
    this.log.appendLine(`Kernel restarted (pid ${session.pid}).`);
    return true;
  }

  private async shutdown(notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    const kernel = this.kernels.get(key);
    this.kernels.delete(key);
    if (kernel) await (await kernel.session.catch(() => undefined))?.shutdown();
  }

  dispose(): void {
    for (const kernel of this.kernels.values()) void kernel.session.then((s) => s.shutdown(), () => undefined);
    this.kernels.clear();
    for (const d of this.disposables) d.dispose();
  }
}

function toItems(output: MappedOutput): vscode.NotebookCellOutputItem[] {
  return output.items.map((item) => new vscode.NotebookCellOutputItem(item.data, item.mime));
}

function toNotebookOutput(output: MappedOutput): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput(toItems(output), output.metadata);
}

function errorOutput(name: string, message: string): MappedOutput {
  const data = new TextEncoder().encode(JSON.stringify({ name, message, stack: '' }));
  return { id: `${name}-${Date.now()}`, items: [{ mime: 'application/vnd.code.notebook.error', data }], metadata: { outputType: 'error', metadata: {} } };
}
