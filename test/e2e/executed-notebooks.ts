/**
 * The shipped numbered notebooks (notebooks/NN-*.ipynb) executed for the VS Code for the Web test:
 * Debian's nbclient runs each in smoke mode on the `pertset` kernel (installed into a temporary
 * JUPYTER_PATH) and writes the executed copy elsewhere. They run one after another in ONE working
 * directory, as `pertset reproduce` runs them: notebooks 03–05 open the sets 01 and 02 saved in
 * its `experiments/`.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MIME } from '../../kernel/contract/mime';
import { PYTHON, REPO_ROOT, sharedDataDir } from '../helpers/env';

export const NOTEBOOKS_DIR = path.join(REPO_ROOT, 'notebooks');
export const MIME_PLOTLY = 'application/vnd.plotly.v1+json';

/** notebooks/NN-*.ipynb: the numbered notebooks, each with a smoke mode. */
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
 * `outDir`, in order, in the working directory `workDir/notebooks-cwd`; one promise per notebook,
 * by name (a failed notebook does not stop the next). The shared MNIST is used when present (else
 * the notebooks fall back to their embedded Fashion-MNIST subset).
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
  const cwd = path.join(workDir, 'notebooks-cwd');
  fs.mkdirSync(cwd, { recursive: true });
  const runs = new Map<string, Promise<ExecutedNotebook>>();
  let previous: Promise<unknown> = Promise.resolve();
  for (const name of numberedNotebooks()) {
    const file = path.join(outDir, name);
    const done = previous.catch(() => undefined).then(() => {
      const started = Date.now();
      return run(PYTHON, ['-X', 'frozen_modules=off', '-c', RUN_NOTEBOOK, path.join(NOTEBOOKS_DIR, name), file, cwd], env)
        .then(() => ({ name, file, seconds: (Date.now() - started) / 1000 }));
    });
    done.catch(() => undefined); // awaited (and reported) by the test of that notebook
    runs.set(name, done);
    previous = done;
  }
  return runs;
}

const MIME_PICTURES: readonly string[] = [MIME.imageGrid, MIME.latentTraversal];

/** Saved outputs of a notebook: all of them, plotly charts, and image grids or latent traversals. */
export function savedOutputCounts(file: string): { outputs: number; charts: number; pictures: number } {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
  return {
    outputs: outputs.length,
    charts: outputs.filter((o) => o.data && MIME_PLOTLY in o.data).length,
    pictures: outputs.filter((o) => o.data && MIME_PICTURES.some((m) => m in o.data!)).length,
  };
}

/** Number of plotly chart outputs saved in an executed notebook. */
export function plotlyOutputCount(file: string): number {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && MIME_PLOTLY in o.data).length;
}
