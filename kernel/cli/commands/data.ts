/**
 * `pertset data download mnist [--cache DIR] [--mirror URL] [--force]` and
 * `pertset data info [--dataset NAME] [--data DIR] [--json]`. Loads no TensorFlow.js.
 */
import { SingleBar, Presets } from 'cli-progress';
import { ConfigError } from '../../api/errors';
import { DATASET_NAMES, type DatasetName, type SplitName } from '../../api/data/dataset';
import { downloadMnist, type DownloadProgress } from '../../api/data/download';
import { loadDataset, resolveDatasetName } from '../../api/data/load';
import { locateDataset } from '../../api/data/locate';
import { parse } from '../args';
import type { Command } from '../main';

const USAGE = `usage:
  pertset data download mnist [--cache DIR] [--mirror URL] [--force]
      Fetch the four MNIST files into the cache (default: $PERTSET_CACHE, else
      $XDG_CACHE_HOME/pertset, else ~/.cache/pertset), verifying the sha256 of the decompressed bytes.
      Mirrors are tried in order; --mirror URL (repeatable, or $PERTSET_MNIST_MIRROR, comma-separated)
      replaces the default list (ossci-datasets S3, Google CVDF).
  pertset data info [--dataset NAME] [--data DIR] [--json]
      Say which data a run would use and where it comes from (explicit --data DIR, then
      $PERTSET_DATA, then the cache, then the embedded Fashion-MNIST subset), with counts and shapes.
      NAME: ${DATASET_NAMES.join(', ')} (default mnist).`;

function progressReporter(): { onProgress: (p: DownloadProgress) => void; onLog: (line: string) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return { onProgress: () => undefined, onLog: (line) => console.error(line), stop: () => undefined };
  }
  let bar: SingleBar | undefined;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress(p) {
      if (p.url !== current || !bar) {
        stop();
        current = p.url;
        bar = new SingleBar({ format: `${p.file} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr }, Presets.shades_classic);
        bar.start(p.total ?? 0, 0);
      }
      if (p.total !== undefined) bar.setTotal(p.total);
      bar.update(p.received);
    },
    onLog(line) {
      stop();
      console.error(line);
    },
    stop,
  };
}

async function download(argv: string[]): Promise<number> {
  const { values, positionals } = parse('data download', argv, {
    cache: { type: 'string' },
    mirror: { type: 'string', multiple: true },
    force: { type: 'boolean' },
  }, true);
  if (positionals.length !== 1 || positionals[0] !== 'mnist') {
    throw new ConfigError(`download: expected the dataset name "mnist", got ${positionals.length ? positionals.map((p) => `"${p}"`).join(' ') : 'nothing'}`);
  }
  const reporter = progressReporter();
  try {
    const files = await downloadMnist({
      cache: values.cache as string | undefined,
      mirrors: values.mirror as string[] | undefined,
      force: values.force === true,
      callbacks: { onProgress: reporter.onProgress, onLog: reporter.onLog },
    });
    reporter.stop();
    for (const f of files) console.log(`${f.name}: ${f.path} (sha256 ${f.sha256}, ${f.from === 'cached' ? 'already present' : `from ${f.from}`})`);
    return 0;
  } finally {
    reporter.stop();
  }
}

function info(argv: string[]): number {
  const { values } = parse('data info', argv, {
    dataset: { type: 'string', default: 'mnist' },
    data: { type: 'string' },
    json: { type: 'boolean' },
  });
  let name: DatasetName;
  try {
    name = resolveDatasetName(values.dataset as string);
  } catch {
    throw new ConfigError(`info: --dataset must be one of ${DATASET_NAMES.join(', ')}, got "${values.dataset}"`);
  }
  const dir = values.data as string | undefined;
  const located = locateDataset(name, { dir });
  const splits: Partial<Record<SplitName, { count: number; imageShape: number[]; labelCounts: number[] }>> = {};
  let description = '';
  let note: string | undefined;
  for (const split of ['train', 'val', 'test'] as const) {
    const ds = loadDataset(name, { dir, split });
    splits[split] = { count: ds.count, imageShape: ds.imageShape, labelCounts: ds.labelCounts() };
    description = ds.source.description;
    note = ds.note;
  }
  const report = { requested: name, name: located.name, origin: located.origin, dir: located.dir, files: Object.values(located.files), description, note, splits };
  if (values.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  console.log(`dataset: ${located.name}${located.name !== name ? ` (asked for ${name})` : ''}`);
  console.log(`source:  ${description}`);
  if (note) console.log(`note:    ${note}`);
  for (const [split, s] of Object.entries(splits)) console.log(`${split.padEnd(6)} ${String(s.count).padStart(6)} images ${s.imageShape.join('x')}`);
  console.log('files:');
  for (const f of report.files) console.log(`  ${f}`);
  return 0;
}

export const command: Command = {
  summary: 'download MNIST into the cache; show which dataset a run would use',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'download') return download(rest);
    if (sub === 'info') return info(rest);
    throw new ConfigError(`expected "download" or "info", got ${sub ? `"${sub}"` : 'nothing'} (see \`pertset data --help\`)`);
  },
};
