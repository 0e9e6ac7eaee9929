/**
 * `pertset corrupt --dataset cifar10|mnist --corruption NAME|all --severity S|all --out DIR
 * [--data DIR] [--seed N] [--limit N] [--json]`: a corrupted copy of the test split, in the
 * dataset's own format, one folder per (corruption, severity). Loads no TensorFlow.js.
 */
import { ConfigError } from '../../api/errors';
import { CORRUPTIBLE_DATASETS, SUITES, writeCorruptedCopy } from '../../api/corruptions';
import { intOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress } from '../progress';

const list = (names: readonly string[]) => names.join(', ');

const USAGE = `usage: pertset corrupt --dataset cifar10|mnist --corruption NAME[,NAME...]|all --severity S[,S...]|all
                       --out DIR [--data DIR] [--seed N] [--limit N] [--json]

Write a corrupted copy of the test split in the dataset's own format, so the ordinary loaders
read it: DIR/<corruption>/<severity>/test_batch.bin (CIFAR-10 binary records) or
t10k-images-idx3-ubyte + t10k-labels-idx1-ubyte (MNIST IDX), each with a corruption.json.
Same seed, same bytes. Each folder appears whole or not at all.
  --dataset     cifar10: the CIFAR-10-C corruptions (Hendrycks' parameters); mnist: the MNIST
                analogue (in the spirit of MNIST-C)
  --corruption  cifar10: ${list(SUITES.cifar10c.names)}
                  (the paper learns from ${list(SUITES.cifar10c.train)};
                   held out: ${list(SUITES.cifar10c.heldOut)})
                mnist: ${list(SUITES.mnistc.names)}
                  (train: the first 12; held out: ${list(SUITES.mnistc.heldOut)})
  --severity    1 to 5 (the paper's protocol uses 5)
  --data DIR    the dataset's folder or a data root with cifar10/, mnist/ and frost/ (frost overlays)
  --seed N      default 0
  --limit N     only the first N test images
  --json        print one JSON object {suite, folders, images, source}`;

export const command: Command = {
  summary: 'write a corrupted copy of a test split (CIFAR-10-C, the MNIST analogue)',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('corrupt', argv, {
      dataset: { type: 'string' },
      corruption: { type: 'string' },
      severity: { type: 'string' },
      out: { type: 'string' },
      data: { type: 'string' },
      seed: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    for (const required of ['dataset', 'corruption', 'severity', 'out'] as const) {
      if (typeof values[required] !== 'string' || values[required] === '') throw new ConfigError(`--${required} is required (see \`pertset corrupt --help\`)`);
    }
    const dataset = values.dataset as string;
    if (!(dataset in CORRUPTIBLE_DATASETS)) throw new ConfigError(`--dataset: unknown dataset "${dataset}"; expected one of ${list(Object.keys(CORRUPTIBLE_DATASETS))}`);
    const suite = SUITES[CORRUPTIBLE_DATASETS[dataset as keyof typeof CORRUPTIBLE_DATASETS]];
    const corruptionArg = values.corruption as string;
    const corruptions = corruptionArg === 'all' ? 'all' : corruptionArg.split(',').map((s) => s.trim());
    if (corruptions !== 'all') {
      for (const name of corruptions) {
        if (!suite.corruptions[name]) throw new ConfigError(`--corruption: unknown corruption "${name}" for ${dataset}; expected all or one of ${list(suite.names)}`);
      }
    }
    const severityArg = values.severity as string;
    const severities = severityArg === 'all' ? 'all' : severityArg.split(',').map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 1 || n > 5) throw new ConfigError(`--severity: must be all or integers from 1 to 5, got "${s.trim()}"`);
      return n;
    });
    const seedArg = values.seed as string | undefined;
    if (seedArg !== undefined && !/^-?\d+$/.test(seedArg)) throw new ConfigError(`--seed must be an integer, got "${seedArg}"`);
    const seed = seedArg === undefined ? undefined : Number(seedArg);
    const limit = intOption('limit', values.limit as string | undefined, 1);
    const json = values.json === true;

    let progress: ReturnType<typeof createProgress> | null = null;
    try {
      const result = writeCorruptedCopy({
        dataset,
        corruptions,
        severities,
        out: values.out as string,
        data: values.data as string | undefined,
        seed,
        limit,
        callbacks: {
          onProgress: (p) => {
            progress ??= createProgress({
              total: p.total,
              stream: json ? 'stderr' : 'stdout',
              format: 'corrupting [{bar}] {value}/{total} images | {name}',
              line: (v, t, f) => `corrupting: ${v}/${t} images (${f.name})`,
            });
            progress.update(p.done, { name: `${p.corruption} s${p.severity}` });
          },
        },
      });
      (progress as ReturnType<typeof createProgress> | null)?.stop();
      progress = null;
      if (json) console.log(JSON.stringify(result));
      else {
        console.log(`${suite.title}: ${result.images} test images × ${result.folders.length} (corruption, severity) written from ${result.source.join(', ')}`);
        for (const f of result.folders) console.log(`  ${f}`);
      }
      return 0;
    } finally {
      (progress as ReturnType<typeof createProgress> | null)?.stop();
    }
  },
};
