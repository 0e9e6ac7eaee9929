/**
 * Which kernel launcher the controller starts, and with which Node. Plain Node (no `vscode`).
 *
 * Launcher, first match wins: the `pertset.kernelPath` setting; the copy bundled in the .vsix
 * (`<extension>/kernel/dist/kernel/jupyter/launcher.js`); a development checkout, where the
 * extension folder sits inside the pertset repository (`<repo>/dist/kernel/jupyter/launcher.js`).
 *
 * Node: the `pertset.nodePath` setting, else VS Code's own runtime run as plain Node
 * (ELECTRON_RUN_AS_NODE), so nothing depends on a `node` on the PATH of a GUI-launched editor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { KernelStartError } from '../kernel/jupyter/client/errors';

export const LAUNCHER_IN_PACKAGE = path.join('dist', 'kernel', 'jupyter', 'launcher.js');

export interface KernelLocation {
  launcher: string;
  source: 'setting pertset.kernelPath' | 'bundled with the extension' | 'development checkout';
}

export function bundledKernelDir(extensionPath: string): string {
  return path.join(extensionPath, 'kernel');
}

export function locateKernel(extensionPath: string, settingPath?: string): KernelLocation {
  if (settingPath && settingPath.trim()) {
    const launcher = path.resolve(settingPath.trim());
    if (!fs.existsSync(launcher)) {
      throw new KernelStartError(`pertset.kernelPath points at ${launcher}, which does not exist; fix the setting or clear it to use the bundled kernel`);
    }
    return { launcher, source: 'setting pertset.kernelPath' };
  }
  const candidates: KernelLocation[] = [
    { launcher: path.join(bundledKernelDir(extensionPath), LAUNCHER_IN_PACKAGE), source: 'bundled with the extension' },
    { launcher: path.join(extensionPath, '..', LAUNCHER_IN_PACKAGE), source: 'development checkout' },
  ];
  const found = candidates.find((c) => fs.existsSync(c.launcher));
  if (!found) {
    throw new KernelStartError(
      `no pertset kernel launcher found (looked at ${candidates.map((c) => c.launcher).join(', ')}); ` +
      'set pertset.kernelPath to dist/kernel/jupyter/launcher.js of a built pertset package',
    );
  }
  return found;
}

export interface NodeCommand {
  node: string;
  env: NodeJS.ProcessEnv;
}

/** The Node runtime for the kernel: the setting, else this process's runtime as plain Node. */
export function nodeCommand(settingNodePath: string | undefined, execPath = process.execPath, baseEnv = process.env): NodeCommand {
  if (settingNodePath && settingNodePath.trim()) return { node: settingNodePath.trim(), env: { ...baseEnv } };
  return { node: execPath, env: { ...baseEnv, ELECTRON_RUN_AS_NODE: '1' } };
}

export function kernelArgv(node: string, launcher: string): string[] {
  return [node, launcher, '--config-path', '{connection_file}'];
}
