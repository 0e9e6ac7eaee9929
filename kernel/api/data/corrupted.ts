/**
 * Reading back a folder written by `pertset corrupt` (`OUT/<corruption>/<severity>`): the test
 * split in the dataset's own format (MNIST IDX or CIFAR-10 binary records) beside a
 * `corruption.json` saying what was done. `loadDataset(name, { dir })` comes here when `dir` holds
 * a `corruption.json`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, DataFormatError } from '../errors';
import { readCifarBinary, CIFAR_CHANNELS, CIFAR_SIDE } from './cifar-binary';
import { DATASETS } from './catalog';
import { ImageDataset, type DatasetName } from './dataset';
import { contentSha256 } from './file-bytes';
import { readIdxImagesAndLabels } from './idx';
import { findFile } from './locate';

export const CORRUPTION_RECORD_FILE = 'corruption.json';

/** What `corruption.json` records (the fields a reader relies on; the file holds more). */
export interface CorruptionRecord {
  dataset: 'mnist' | 'cifar10';
  split: 'test';
  suite: string;
  corruption: string;
  severity: number;
  seed: number;
  images: number;
  heldOut?: boolean;
}

/** Whether `dir` is a folder written by `pertset corrupt` (it holds a corruption.json). */
export function isCorruptedCopy(dir: string): boolean {
  return fs.existsSync(path.join(dir, CORRUPTION_RECORD_FILE));
}

/** Reads and checks `dir/corruption.json`; a malformed record is a DataFormatError naming the field. */
export function readCorruptionRecord(dir: string): CorruptionRecord {
  const file = path.join(dir, CORRUPTION_RECORD_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataFormatError(`${file}: not readable JSON (${(e as Error).message}); is this a folder written by \`pertset corrupt\`?`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DataFormatError(`${file}: expected a JSON object`);
  const r = json as Record<string, unknown>;
  const bad = (field: string, want: string) => new DataFormatError(`${file}: "${field}" must be ${want}, got ${JSON.stringify(r[field])}`);
  if (r.dataset !== 'mnist' && r.dataset !== 'cifar10') throw bad('dataset', '"mnist" or "cifar10"');
  if (r.split !== 'test') throw bad('split', '"test"');
  for (const f of ['suite', 'corruption']) if (typeof r[f] !== 'string' || !r[f]) throw bad(f, 'a non-empty string');
  if (!Number.isInteger(r.severity) || (r.severity as number) < 1 || (r.severity as number) > 5) throw bad('severity', 'an integer from 1 to 5');
  if (!Number.isInteger(r.seed)) throw bad('seed', 'an integer');
  if (!Number.isInteger(r.images) || (r.images as number) < 1) throw bad('images', 'an integer >= 1');
  return r as unknown as CorruptionRecord;
}

/**
 * The corrupted test images of `dir` as an ImageDataset (split `test`, the copy's corruption in
 * `note` and the description). Errors name the folder and what is wrong with it.
 */
export function loadCorruptedCopy(dir: string, options: { requested?: DatasetName; split?: string; limit?: number; padding?: number } = {}): ImageDataset {
  const abs = path.resolve(dir);
  const record = readCorruptionRecord(abs);
  if (options.split !== undefined && options.split !== 'test') {
    throw new ArgumentError(`${abs} is a corrupted copy of the ${record.dataset} test split (\`pertset corrupt\`); it has no "${options.split}" split`);
  }
  if (options.requested !== undefined && options.requested !== record.dataset) {
    throw new ArgumentError(`${abs} is a corrupted copy of ${record.dataset}, not ${options.requested}`);
  }
  const spec = DATASETS[record.dataset];
  const files = spec.testFiles.map((n) => [n, findFile(abs, n)] as const);
  const missing = files.filter(([, f]) => !f).map(([n]) => n);
  if (missing.length) throw new DataFormatError(`${abs}: the corrupted copy lacks ${missing.join(', ')} (its corruption.json says ${record.images} ${record.dataset} test images)`);
  const paths = files.map(([, f]) => f as string);
  let images: Uint8Array;
  let labels: Uint8Array;
  let height: number;
  let width: number;
  let channels: number;
  if (spec.format === 'idx') {
    const r = readIdxImagesAndLabels(paths[0], paths[1]);
    [images, labels, height, width, channels] = [r.images, r.labels, r.height, r.width, 1];
  } else {
    const r = readCifarBinary(paths[0]);
    [images, labels, height, width, channels] = [r.images, r.labels, CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS];
  }
  if (labels.length !== record.images) {
    throw new DataFormatError(`${abs}: ${CORRUPTION_RECORD_FILE} records ${record.images} images but the files hold ${labels.length}`);
  }
  const what = `${record.corruption} at severity ${record.severity} (suite ${record.suite}, seed ${record.seed})`;
  let dataset = new ImageDataset({
    name: record.dataset,
    split: 'test',
    images,
    labels,
    height,
    width,
    channels,
    classNames: spec.classNames,
    source: {
      origin: 'explicit',
      dir: abs,
      files: paths.map((p) => path.resolve(p)),
      sha256: Object.fromEntries(files.map(([n, f]) => [n, contentSha256(f as string)])),
      description: `${spec.title} test split corrupted with ${what}, from ${abs}`,
    },
    note: `corrupted copy: ${what}`,
  });
  if (options.limit !== undefined) dataset = dataset.take(options.limit);
  return dataset.pad(options.padding ?? 0);
}
