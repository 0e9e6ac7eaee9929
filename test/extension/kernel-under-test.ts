/**
 * The kernel the client tests talk to: our launcher (dist/kernel/jupyter/launcher.js), compiled
 * by the same `npm run build:ts` that compiles these tests, so it is never optional.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/env';

export const LAUNCHER = path.join(REPO_ROOT, 'dist', 'kernel', 'jupyter', 'launcher.js');

/** The launcher's path; throws when it was not built (a build problem, never a skip). */
export function requireLauncher(): string {
  if (!fs.existsSync(LAUNCHER)) throw new Error(`kernel launcher ${LAUNCHER} is missing: run \`npm run build:ts\``);
  return LAUNCHER;
}

export function kernelArgv(): string[] {
  return [process.execPath, requireLauncher(), '--config-path', '{connection_file}'];
}
