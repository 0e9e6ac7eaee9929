/**
 * The shipped numbered notebooks (notebooks/NN-*.ipynb, saved without outputs) executed for the
 * VS Code for the Web test: Debian's nbclient runs each in smoke mode on the `pertset` kernel
 * (installed into a temporary JUPYTER_PATH), with the notebooks folder as working directory as a
 * user would have it, and writes the executed copy elsewhere. The notebooks run in parallel.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON, REPO_ROOT, sharedDataDir } from '../helpers/env';

export const NOTEBOOKS_DIR = path.join(REPO_ROOT, 'notebooks');
export const MIME_PLOTLY = 'application/vnd.plotly.v1+json';

/** notebooks/NN-*.ipynb: the notebooks that ship without outputs and have a smoke mode. */
export function numberedNotebooks(): string[] {
  return fs.readdirSync(NOTEBOOKS_DIR).filter((n) => /^\d\d-.*\.ipynb$/.test(n)).sort();
}

const RUN_NOTEBOOK = `
import sys, nbformat, nbclient
src, out, cwd = sys.argv[1:4]
nb = nbformat.read(src, as_version=4)
nbclient.NotebookClient(nb, kernel_name="pertset", timeout=600, resources={"metadata": {"path": cwd}}).execute()
nbformat.write(nb, out)
`;

export interface ExecutedNotebook {
  name: string;
  /** The executed copy. */
  file: string;
  seconds: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} exited ${code}:\n${stderr.slice(-3000)}`))));
  });
}

/**
 * Installs the kernelspec into `workDir/jupyter` and starts executing every numbered notebook into
 * `outDir`; one promise per notebook, by name. The shared MNIST is used when present (else the
 * notebooks fall back to their embedded Fashion-MNIST subset).
 */
export async function startExecutingNotebooks(workDir: string, outDir: string): Promise<Map<string, Promise<ExecutedNotebook>>> {
  const jupyterPath = path.join(workDir, 'jupyter');
  await run(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'kernel', 'install', '--jupyter-path', jupyterPath], process.env);
  const data = path.join(sharedDataDir(), 'mnist');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    PERTSET_NOTEBOOK_MODE: 'smoke',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    ...(fs.existsSync(data) ? { PERTSET_DATA: sharedDataDir() } : {}),
  };
  fs.mkdirSync(outDir, { recursive: true });
  const runs = new Map<string, Promise<ExecutedNotebook>>();
  for (const name of numberedNotebooks()) {
    const file = path.join(outDir, name);
    const started = Date.now();
    const done = run(PYTHON, ['-X', 'frozen_modules=off', '-c', RUN_NOTEBOOK, path.join(NOTEBOOKS_DIR, name), file, NOTEBOOKS_DIR], env)
      .then(() => ({ name, file, seconds: (Date.now() - started) / 1000 }));
    done.catch(() => undefined); // awaited (and reported) by the test of that notebook
    runs.set(name, done);
  }
  return runs;
}

/** Number of plotly chart outputs saved in an executed notebook. */
export function plotlyOutputCount(file: string): number {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && MIME_PLOTLY in o.data).length;
}
