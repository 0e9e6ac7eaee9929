/**
 * Options shared by the commands that compute (train, robust-train, radius, eval, import-torch).
 * Kept apart from args.ts because it loads the backend module (and so TensorFlow.js), which
 * `pertset kernel` and `pertset data` must not pay for.
 */
import { parseBackendName, type BackendName } from '../api/backend';
import { ConfigError } from '../api/errors';
import { intOption, type OptionSpec, type Parsed } from './args';

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

/** The options both evaluations of a robust training run (`robust-eval`, `certify`) take, for `parse`. */
export const ROBUST_RUN_OPTIONS = {
  run: { type: 'string' },
  limit: { type: 'string' },
  radius: { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  cvae: { type: 'string' },
  data: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

/** Their usage lines (`--run`, `--limit`, `--radius` and `--json` read differently in each: the command says them). */
export const ROBUST_RUN_USAGE = `  --checkpoint C     best (default when it exists) or latest
  --data DIR         folder with the dataset files (checked against the run's recorded sha256)
  --backend B        auto, wasm, cpu or tensorflow (default $PERTSET_BACKEND or auto)`;

/** `ROBUST_RUN_OPTIONS` parsed (but `--radius`, whose bounds differ): the run folder, the `RobustRunOptions`, `--json`. */
export function robustRunOptions(command: string, values: Parsed['values']) {
  const { runDir, checkpoint } = runDirOptions(command, values);
  const options = {
    limit: intOption('limit', values.limit as string | undefined, 1),
    checkpoint,
    cvae: values.cvae as string | undefined,
    dataDir: values.data as string | undefined,
    seed: intOption('seed', values.seed as string | undefined, -2147483648),
  };
  return { runDir, options, json: values.json === true };
}

/** The options of every training command (`train`, `robust-train`), for `parse`. */
export const TRAINING_OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  epochs: { type: 'string' },
  limit: { type: 'string' },
  'val-limit': { type: 'string' },
  'batch-size': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-steps': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

/** Their usage lines, after `--config NAME|FILE` and the command's own options. */
export const TRAINING_USAGE = `  --out DIR           run directory (default: <output_dir>/<model_dir> of the config)
  --epochs N          train N epochs; the LR schedule (and the CVAE's beta schedule) is rescaled to N epochs
  --limit N           use only the first N training images
  --val-limit N       use only the first N validation images
  --batch-size N      minibatch size (default: the config's training.batch_size)
  --data DIR          folder with the dataset files (default: $PERTSET_DATA, then the cache,
                      then the embedded Fashion-MNIST subset); the data used is printed and recorded
  --seed S            seed of initialisation, shuffling, perturbations and noise (default: config, 1)
  --backend B         auto, wasm, cpu or tensorflow (default $PERTSET_BACKEND or auto)
  --checkpoint-steps N  also save the "latest" checkpoint every N steps
  --json              print one JSON object at the end: {status, epochs, globalStep, runDir, history}
                      (everything else goes to stderr)

Ctrl-C stops after the current step and saves; run the same command again to resume.
Writes <out>/run.json, <out>/config.json and <out>/checkpoints/{latest,best,epoch-NNN}/.`;

/** `TRAINING_OPTIONS` parsed: the config (required), the options both trainers' `create` take, and `--json`. */
export function trainingOptions(command: string, values: Parsed['values']) {
  const config = values.config as string | undefined;
  if (!config) throw new ConfigError(`--config NAME|FILE is required (see \`pertset ${command} --help\`)`);
  const options = {
    dataDir: values.data as string | undefined,
    outDir: values.out as string | undefined,
    epochs: intOption('epochs', values.epochs as string | undefined, 1),
    limit: intOption('limit', values.limit as string | undefined, 1),
    validationLimit: intOption('val-limit', values['val-limit'] as string | undefined, 1),
    batchSize: intOption('batch-size', values['batch-size'] as string | undefined, 1),
    seed: intOption('seed', values.seed as string | undefined, -2147483648),
    backend: backendOption(values),
    checkpointSteps: intOption('checkpoint-steps', values['checkpoint-steps'] as string | undefined, 0),
  };
  return { config, options, json: values.json === true };
}
