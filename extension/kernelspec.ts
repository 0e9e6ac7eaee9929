/**
 * "Register Jupyter kernel": the same kernelspec `pertset kernel install --user` writes (shape
 * and name from kernel/jupyter/kernelspec.ts), but pointing at the launcher this extension uses
 * and at a Node that exists outside VS Code. Plain Node (no `vscode`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { KERNEL_NAME, kernelSpec, userDataDir, type KernelSpec } from '../kernel/jupyter/kernelspec';

export { KERNEL_NAME, DISPLAY_NAME } from '../kernel/jupyter/kernelspec';

/** kernel.json for `node launcher`; `env` is added when Node is VS Code's runtime run as Node. */
export function extensionKernelSpec(node: string, launcher: string, env: Record<string, string> = {}): KernelSpec {
  return { ...kernelSpec(node, launcher), ...(Object.keys(env).length ? { env } : {}) };
}

/** Writes `<dataDir>/kernels/pertset/kernel.json` (default: the user's Jupyter data dir); returns the kernel directory. */
export function writeKernelSpec(spec: KernelSpec, dataDir = userDataDir()): string {
  const dir = path.join(dataDir, 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
  return dir;
}

/** `node` on the PATH, if any: the Jupyter extension starts kernels outside VS Code's runtime. */
export function nodeOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = process.platform === 'win32' ? 'node.exe' : 'node';
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}
