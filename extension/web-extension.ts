/**
 * Entry in VS Code for the Web (vscode.dev, github.dev): the renderers work there (declared in
 * package.json), but no kernel process can be started, so the commands only say so.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const unavailable = (): void => {
    void vscode.window.showWarningMessage('The Perturbation Sets kernel needs desktop VS Code; in the browser only the output renderers are available.');
  };
  for (const command of ['pertset.registerJupyterKernel', 'pertset.restartKernel', 'pertset.showKernelLog']) {
    context.subscriptions.push(vscode.commands.registerCommand(command, unavailable));
  }
}

export function deactivate(): void {
  // Nothing to release.
}
