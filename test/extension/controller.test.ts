/**
 * The bundled extension (extension/out/extension.js) activated in Node against a stand-in for the
 * `vscode` module, with the real kernel: the controller is registered for .ipynb, runs queued
 * cells in order with streamed and rich outputs, marks failures, and reports a dying kernel.
 * (Desktop VS Code cannot be downloaded here; the stand-in records what the extension asks of it.)
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/env';
import { requireLauncher } from './kernel-under-test';
import { MIME } from '../../kernel/contract/mime';

const BUNDLE = path.join(REPO_ROOT, 'extension', 'out', 'extension.js');

class NotebookCellOutputItem {
  constructor(readonly data: Uint8Array, readonly mime: string) {}
}
class NotebookCellOutput {
  constructor(public items: NotebookCellOutputItem[], readonly metadata?: Record<string, unknown>) {}
}
const disposable = { dispose: () => undefined };

interface FakeCell { index: number; document: { getText(): string } }

class FakeExecution {
  outputs: NotebookCellOutput[] = [];
  executionOrder: number | undefined;
  started = false;
  success: boolean | undefined;
  readonly token = { isCancellationRequested: false, onCancellationRequested: () => disposable };
  private done!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.done = resolve));
  constructor(readonly cell: FakeCell, private readonly log: string[]) {}
  start(): void {
    this.started = true;
    this.log.push(`start ${this.cell.index}`);
  }
  end(success: boolean | undefined): void {
    this.success = success;
    this.log.push(`end ${this.cell.index} ${success}`);
    this.done();
  }
  async clearOutput(): Promise<void> {
    this.outputs = [];
  }
  async appendOutput(o: NotebookCellOutput): Promise<void> {
    this.outputs.push(o);
  }
  async replaceOutputItems(items: NotebookCellOutputItem[], o: NotebookCellOutput): Promise<void> {
    o.items = items;
  }
  text(mime: string): string {
    return this.outputs.flatMap((o) => o.items).filter((i) => i.mime === mime).map((i) => Buffer.from(i.data).toString('utf8')).join('');
  }
}

describe('the extension host bundle with a stand-in vscode module', () => {
  const log: string[] = [];
  const errors: string[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const subscriptions: Array<{ dispose(): unknown }> = [];
  let controller: Record<string, any>;
  let window: Record<string, unknown>;
  const notebookDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-controller-'));
  const notebook = { uri: { scheme: 'file', fsPath: path.join(notebookDir, 'nb.ipynb'), toString: () => `file://${notebookDir}/nb.ipynb` } };
  const Module = require('module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = Module._load;

  before(() => {
    requireLauncher();
    if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build:extension\` first`);
    window = {
      createOutputChannel: () => ({ append: () => undefined, appendLine: () => undefined, show: () => undefined, dispose: () => undefined }),
      showErrorMessage: async (m: string) => void errors.push(m),
      showInformationMessage: async () => undefined,
      showWarningMessage: async () => undefined,
    };
    const vscode = {
      notebooks: {
        createNotebookController: (id: string, notebookType: string, label: string) => {
          controller = {
            id, notebookType, label, dispose: () => undefined,
            onDidChangeSelectedNotebooks: () => disposable,
            createNotebookCellExecution: (cell: FakeCell) => new FakeExecution(cell, log),
          };
          return controller;
        },
      },
      window,
      commands: { registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => (commands.set(id, fn), disposable) },
      workspace: { onDidCloseNotebookDocument: () => disposable, getConfiguration: () => ({ get: () => undefined }), workspaceFolders: undefined },
      NotebookCellOutput,
      NotebookCellOutputItem,
    };
    Module._load = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? vscode : originalLoad.call(this, request, ...rest);
    };
    const ext = require(BUNDLE) as { activate(ctx: unknown): void };
    ext.activate({ extensionPath: path.join(REPO_ROOT, 'extension'), subscriptions });
  });

  after(() => {
    for (const s of subscriptions) s.dispose();
    Module._load = originalLoad;
    fs.rmSync(notebookDir, { recursive: true, force: true });
  });

  const cell = (index: number, code: string): FakeCell => ({ index, document: { getText: () => code } });

  it('registers the controller for .ipynb and the commands', () => {
    assert.equal(controller.id, 'pertset-kernel');
    assert.equal(controller.notebookType, 'jupyter-notebook');
    assert.equal(controller.label, 'Perturbation Sets (TypeScript)');
    assert.equal(controller.supportsExecutionOrder, true);
    assert.deepEqual([...commands.keys()].sort(), ['pertset.registerJupyterKernel', 'pertset.restartKernel', 'pertset.showKernelLog']);
  });

  it('runs queued cells in order on our kernel with stream, rich and error outputs', async () => {
    const cells = [
      cell(0, 'const y: number = 41;'),
      cell(1, 'console.log(y + 1);'),
      cell(2, 'pertset.display.imageGrid([[[0, 1], [1, 0]]])'),
      cell(3, 'throw new RangeError("bad radius");'),
      cell(4, 'console.log("not reached");'),
    ];
    const seen: FakeExecution[] = [];
    const create = controller.createNotebookCellExecution;
    controller.createNotebookCellExecution = (c: FakeCell) => {
      const e = create(c) as FakeExecution;
      seen.push(e);
      return e;
    };
    // Two runs queued back to back must not interleave.
    const first = controller.executeHandler(cells.slice(0, 2), notebook, controller);
    const second = controller.executeHandler(cells.slice(2), notebook, controller);
    await Promise.all([first, second]);
    // The failing cell stops the rest of its run, as in Jupyter.
    assert.deepEqual(log, ['start 0', 'end 0 true', 'start 1', 'end 1 true', 'start 2', 'end 2 true', 'start 3', 'end 3 false', 'start 4', 'end 4 undefined']);
    assert.deepEqual(seen[4].outputs, []);
    assert.equal(seen[1].text('application/vnd.code.notebook.stdout'), '42\n');
    assert.deepEqual(seen[2].outputs[0].items.map((i) => i.mime), [MIME.imageGrid, MIME.html, MIME.plain]);
    assert.match(seen[3].text('application/vnd.code.notebook.error') + seen[3].text('application/vnd.code.notebook.stderr'), /bad radius/);
    const orders = seen.slice(0, 4).map((e) => e.executionOrder);
    assert.ok(orders.every((o) => typeof o === 'number'), `execution orders ${orders}`);
    assert.ok(orders.every((o, i) => i === 0 || o! > orders[i - 1]!), `execution orders ${orders}`);
  });

  it('tells the user when the kernel dies and fails the running cell', async () => {
    log.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    let execution: FakeExecution | undefined;
    const create = controller.createNotebookCellExecution;
    controller.createNotebookCellExecution = (c: FakeCell) => (execution = create(c) as FakeExecution);
    await controller.executeHandler([cell(5, 'process.exit(7);')], notebook, controller);
    assert.equal(execution!.success, false);
    assert.match(execution!.text('application/vnd.code.notebook.error'), /"name":"KernelDied".*exited with code 7/);
    assert.ok(errors.some((m) => /The Perturbation Sets kernel exited with code 7/.test(m)), `messages: ${errors.join(' | ')}`);

    // "Perturbation Sets: Restart kernel" on the active notebook brings it back.
    window.activeNotebookEditor = { notebook };
    await commands.get('pertset.restartKernel')!();
    await controller.executeHandler([cell(6, 'console.log("alive again");')], notebook, controller);
    assert.equal(execution!.success, true);
    assert.equal(execution!.text('application/vnd.code.notebook.stdout'), 'alive again\n');
  });
});
