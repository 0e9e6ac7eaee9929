/**
 * The kernel the client tests talk to: our launcher (dist/kernel/jupyter/launcher.js, built by
 * `npm run build:ts`). Outside CI, while it is not built, stock tslab's kernel stands in.
 */
import * as fs from 'fs';
import * as path from 'path';
import { IS_CI, REPO_ROOT } from '../helpers/env';

export const LAUNCHER = path.join(REPO_ROOT, 'dist', 'kernel', 'jupyter', 'launcher.js');
const TSLAB = path.join(REPO_ROOT, 'node_modules', 'tslab', 'bin', 'tslab');

export function kernelArgv(): { argv: string[]; which: 'pertset launcher' | 'stock tslab' } {
  if (fs.existsSync(LAUNCHER)) return { argv: [process.execPath, LAUNCHER, '--config-path', '{connection_file}'], which: 'pertset launcher' };
  if (IS_CI) throw new Error(`kernel launcher ${LAUNCHER} is missing (required under CI=true): run npm run build`);
  return { argv: [process.execPath, TSLAB, 'kernel', '--config-path', '{connection_file}'], which: 'stock tslab' };
}
