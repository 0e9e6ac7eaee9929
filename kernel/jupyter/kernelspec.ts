/**
 * Writing the `pertset` kernelspec (kernels/pertset/kernel.json + logos) where Jupyter clients
 * look for it, with absolute paths to node and the launcher, so the kernel starts from GUI
 * editors whose PATH lacks node/npm. No Python involved.
 * Locations: https://docs.jupyter.org/en/latest/use/jupyter-directories.html
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { ArgumentError } from '../api/errors';
import { ensureDir } from '../api/output-dir';

export const KERNEL_NAME = 'pertset';
export const DISPLAY_NAME = 'TypeScript (Perturbation Sets)';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal';
  env?: Record<string, string>;
  metadata?: Record<string, unknown>;
}

/** Where to install: a Jupyter data dir (`--jupyter-path`), `--prefix` (DIR/share/jupyter), or the user's data dir. */
export type InstallTarget = { jupyterPath: string } | { prefix: string } | { user: true };

/** The user's Jupyter data dir, as jupyter_core computes it. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'jupyter');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

/** The Jupyter data dir a target designates (kernels go in `<dir>/kernels/<name>`). */
export function dataDirOf(target: InstallTarget): string {
  if ('jupyterPath' in target) return path.resolve(target.jupyterPath);
  if ('prefix' in target) return path.resolve(target.prefix, 'share', 'jupyter');
  return userDataDir();
}

/** Data dirs Jupyter searches, in its order (JUPYTER_PATH, user, system). */
export function searchedDataDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.JUPYTER_PATH ?? '').split(path.delimiter).filter(Boolean);
  const system = process.platform === 'win32'
    ? [path.join(env.PROGRAMDATA ?? 'C:\\ProgramData', 'jupyter')]
    : ['/usr/local/share/jupyter', '/usr/share/jupyter'];
  return [...new Set([...fromEnv.map((d) => path.resolve(d)), userDataDir(env), ...system])];
}

/** dist/kernel/jupyter/launcher.js beside this file. */
export function launcherPath(): string {
  return path.join(__dirname, 'launcher.js');
}

export function kernelSpec(node = process.execPath, launcher = launcherPath()): KernelSpec {
  return {
    argv: [node, launcher, '--config-path', '{connection_file}'],
    display_name: DISPLAY_NAME,
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { pertset: { launcher } },
  };
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="10" fill="#3178c6"/><circle cx="32" cy="32" r="17" fill="none" stroke="#fff" stroke-width="4" stroke-dasharray="6 4"/><circle cx="32" cy="32" r="5" fill="#fff"/></svg>\n`;

/** The same logo as a size×size PNG (Jupyter Notebook and some clients want logo-32x32.png / logo-64x64.png). */
function logoPng(size: number): Buffer {
  const png = new PNG({ width: size, height: size });
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - c, y - c) / size;
      const ring = Math.abs(r - 0.27) < 0.035;
      const dot = r < 0.08;
      const i = 4 * (y * size + x);
      const [red, green, blue] = ring || dot ? [255, 255, 255] : [0x31, 0x78, 0xc6];
      png.data[i] = red;
      png.data[i + 1] = green;
      png.data[i + 2] = blue;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** Writes the kernelspec; returns its directory. Refuses to run if the launcher was not built. */
export function installKernelSpec(target: InstallTarget): string {
  const launcher = launcherPath();
  if (!fs.existsSync(launcher)) throw new ArgumentError(`cannot install the kernelspec: the launcher ${launcher} does not exist; run \`npm run build:ts\` first`);
  const dir = path.join(dataDirOf(target), 'kernels', KERNEL_NAME);
  ensureDir(dir, 'kernelspec folder');
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(process.execPath, launcher), null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'logo-svg.svg'), LOGO_SVG);
  for (const size of [32, 64]) fs.writeFileSync(path.join(dir, `logo-${size}x${size}.png`), logoPng(size));
  return dir;
}

/** Removes the kernelspec from a target; returns the removed directory, or undefined if none was there. */
export function uninstallKernelSpec(target: InstallTarget): string | undefined {
  const dir = path.join(dataDirOf(target), 'kernels', KERNEL_NAME);
  if (!fs.existsSync(path.join(dir, 'kernel.json'))) return undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
}

export interface InstalledKernel {
  name: string;
  dir: string;
  spec: Partial<KernelSpec>;
}

/** Every kernelspec Jupyter would see (first occurrence of a name wins, as in jupyter_client). */
export function listKernelSpecs(dirs = searchedDataDirs()): InstalledKernel[] {
  const seen = new Map<string, InstalledKernel>();
  for (const dataDir of dirs) {
    const kernels = path.join(dataDir, 'kernels');
    if (!fs.existsSync(kernels)) continue;
    for (const name of fs.readdirSync(kernels).sort()) {
      const file = path.join(kernels, name, 'kernel.json');
      if (seen.has(name.toLowerCase()) || !fs.existsSync(file)) continue;
      let spec: Partial<KernelSpec> = {};
      try {
        spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<KernelSpec>;
      } catch {
        spec = { display_name: '(unreadable kernel.json)' };
      }
      seen.set(name.toLowerCase(), { name, dir: path.dirname(file), spec });
    }
  }
  return [...seen.values()];
}
