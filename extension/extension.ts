/**
 * Extension entry: the notebook controller and the commands. The renderers need no code here;
 * they are contributed declaratively in package.json.
 */
import * as vscode from 'vscode';
import { PertsetController } from './controller';
import { locateKernel, nodeCommand } from './kernel-locator';
import { DISPLAY_NAME, extensionKernelSpec, nodeOnPath, writeKernelSpec } from './kernelspec';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Perturbation Sets Kernel');
  const controller = new PertsetController(context.extensionPath, log);
  context.subscriptions.push(
    log,
    controller,
    vscode.commands.registerCommand('pertset.registerJupyterKernel', () => registerJupyterKernel(context.extensionPath)),
    vscode.commands.registerCommand('pertset.restartKernel', async () => {
      const notebook = vscode.window.activeNotebookEditor?.notebook;
      if (!notebook) {
        void vscode.window.showWarningMessage('Open a notebook that runs on the Perturbation Sets kernel first.');
        return;
      }
      if (!(await controller.restart(notebook))) {
        void vscode.window.showInformationMessage('No Perturbation Sets kernel is running for this notebook; running a cell starts one.');
      }
    }),
    vscode.commands.registerCommand('pertset.showKernelLog', () => log.show()),
  );
}

/** Writes the kernelspec so the Jupyter extension and JupyterLab can start our kernel too. */
async function registerJupyterKernel(extensionPath: string): Promise<void> {
  try {
    const config = vscode.workspace.getConfiguration('pertset');
    const { launcher } = locateKernel(extensionPath, config.get<string>('kernelPath'));
    // Jupyter starts kernels outside VS Code, so prefer a real `node`; else VS Code's runtime as Node.
    const configured = config.get<string>('nodePath')?.trim();
    const onPath = configured || nodeOnPath();
    const { node, env } = onPath ? { node: onPath, env: {} } : nodeCommand(undefined, process.execPath, {});
    const dir = writeKernelSpec(extensionKernelSpec(node, launcher, env as Record<string, string>));
    void vscode.window.showInformationMessage(
      `Registered the Jupyter kernel "${DISPLAY_NAME}" in ${dir}. If it is not listed yet, reload the kernel picker or VS Code.`,
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not register the Jupyter kernel: ${(err as Error).message}`);
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
