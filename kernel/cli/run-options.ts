/**
 * Options shared by the commands that compute (train, radius, eval, import-torch). Kept apart
 * from args.ts because it loads the backend module (and so TensorFlow.js), which `pertset kernel`
 * and `pertset data` must not pay for.
 */
import { parseBackendName, type BackendName } from '../api/backend';
import { ConfigError } from '../api/errors';
import type { Parsed } from './args';

/** `--backend B`, validated; undefined when absent (then `PERTSET_BACKEND` or auto). */
export function backendOption(values: Parsed['values']): BackendName | undefined {
  return values.backend === undefined ? undefined : parseBackendName(values.backend as string, '--backend');
}

/** `--run DIR` (required) and `--checkpoint latest|best` of the commands that read a run directory. */
export function runDirOptions(command: string, values: Parsed['values']): { runDir: string; checkpoint: 'latest' | 'best' | undefined } {
  const runDir = values.run as string | undefined;
  if (!runDir) throw new ConfigError(`--run DIR is required (see \`pertset ${command} --help\`)`);
  const checkpoint = values.checkpoint as string | undefined;
  if (checkpoint !== undefined && checkpoint !== 'latest' && checkpoint !== 'best') {
    throw new ConfigError(`--checkpoint must be latest or best, got "${checkpoint}"`);
  }
  return { runDir, checkpoint };
}
