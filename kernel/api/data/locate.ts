/**
 * Finds a dataset's files. Order: an explicit folder, then `PERTSET_DATA`, then the per-user
 * cache (`PERTSET_CACHE`, else `$XDG_CACHE_HOME/pertset`, else `~/.cache/pertset`), then a
 * system-wide install (Fashion-MNIST: Debian's `/usr/share/datasets/fashion-mnist`), then — for
 * MNIST-like names — the Fashion-MNIST subset embedded in the package, so that a fresh clone works
 * offline. An explicit folder that lacks the files is an error rather than a silent fallback.
 *
 * Reopening a run (`expect`) is stricter: only the dataset the run recorded is accepted — its
 * recorded folder first, then the same places — and only with the recorded sha256 of every
 * file; never the embedded fallback. Otherwise the error names the dataset, its checksums and
 * every place looked in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataFormatError } from '../errors';
import { DATASETS, type DatasetSpec } from './catalog';
import type { DataOrigin, DatasetName } from './dataset';
import { embeddedDir } from './embedded';
import { contentSha256 } from './file-bytes';

/** The dataset a run recorded, which every command reopening the run must read. */
export interface RecordedData {
  name: DatasetName;
  /** The folder the run read it from (looked in first). */
  dir?: string;
  /** sha256 of the decompressed files by name; absent in runs recorded before checksums were kept. */
  sha256?: Record<string, string>;
}

export interface LocateOptions {
  /** A folder holding the files, or a data root with a sub-folder per dataset (`mnist/`, `cifar10/`, ...). */
  dir?: string;
  /** Fall back to the embedded subset when MNIST/Fashion-MNIST is not found. Default true. */
  fallback?: boolean;
  /** Environment to read (tests pass their own). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Look in system-wide install folders (Debian packages). Default true. */
  system?: boolean;
  /** Accept only this recorded dataset (reopening a run); `dir`, when given, is the only place looked in. */
  expect?: RecordedData;
}

export interface LocatedDataset {
  /** The dataset that will be read (may be `embedded` when `requested` was not found). */
  name: DatasetName;
  requested: DatasetName;
  origin: DataOrigin;
  dir: string;
  /** Files by logical name (`train-images-idx3-ubyte` → actual path, `.gz` or raw). */
  files: Record<string, string>;
  /** Places looked at before this one, with what was missing (for messages). */
  searched: string[];
}

/** The per-user cache folder: `PERTSET_CACHE`, else `$XDG_CACHE_HOME/pertset`, else `~/.cache/pertset`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PERTSET_CACHE) return path.resolve(env.PERTSET_CACHE);
  const xdg = env.XDG_CACHE_HOME;
  return xdg ? path.join(path.resolve(xdg), 'pertset') : path.join(os.homedir(), '.cache', 'pertset');
}

/** `name` or `name.gz` inside `dir`, whichever exists (raw preferred). */
export function findFile(dir: string, name: string): string | undefined {
  for (const candidate of [name, `${name}.gz`]) {
    const p = path.join(dir, candidate);
    if (fs.existsSync(p) && fs.statSync(p).isFile()) return p;
  }
  return undefined;
}

/** The files of `spec` in `dir`, or a reason they are not all there. */
function filesIn(spec: DatasetSpec, dir: string): { files: Record<string, string> } | { missing: string } {
  const files: Record<string, string> = {};
  if (spec.format === 'cifar-binary') {
    for (const name of spec.trainFiles) {
      const p = findFile(dir, name);
      if (p) files[name] = p;
    }
    const test = spec.testFiles.map((n) => [n, findFile(dir, n)] as const).find(([, p]) => p);
    if (Object.keys(files).length === 0) return { missing: `no ${spec.trainFiles[0]}[.gz]` };
    if (!test) return { missing: `no ${spec.testFiles.join('[.gz] or ')}[.gz]` };
    files[test[0]] = test[1]!;
    return { files };
  }
  for (const name of [...spec.trainFiles, ...spec.testFiles]) {
    const p = findFile(dir, name);
    if (!p) return { missing: `no ${name}[.gz]` };
    files[name] = p;
  }
  return { files };
}

/** Candidate folders under a data root: the root itself (explicit only) and the dataset's sub-folders. */
function candidates(spec: DatasetSpec, root: string, includeRoot: boolean): string[] {
  const dirs = spec.subdirs.map((s) => path.join(root, s));
  return includeRoot ? [root, ...dirs] : dirs;
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** Why `files` are not the recorded ones, or undefined when every checksum matches. */
function differsFrom(files: Record<string, string>, sha256: Record<string, string> | undefined): string | undefined {
  if (!sha256) return undefined;
  const names = new Set([...Object.keys(files), ...Object.keys(sha256)]);
  for (const name of names) {
    if (!files[name]) return `no ${name}[.gz]`;
    if (!sha256[name]) return `${files[name]} is not part of the recorded dataset`;
    const got = contentSha256(files[name]);
    if (got !== sha256[name]) return `${files[name]} has sha256 ${short(got)}, the run recorded ${short(sha256[name])}`;
  }
  return undefined;
}

function locateRecorded(expect: RecordedData, options: LocateOptions): LocatedDataset {
  const spec = DATASETS[expect.name];
  if (!spec) throw new DataFormatError(`the run recorded an unknown dataset "${String(expect.name)}"; expected one of ${Object.keys(DATASETS).join(', ')}`);
  const env = options.env ?? process.env;
  const places: Array<{ origin: DataOrigin; dirs: string[] }> = [];
  if (options.dir) places.push({ origin: 'explicit', dirs: candidates(spec, path.resolve(options.dir), true) });
  else if (expect.name === 'embedded') places.push({ origin: 'embedded', dirs: [embeddedDir()] });
  else {
    if (expect.dir) places.push({ origin: 'recorded', dirs: [expect.dir] });
    if (env.PERTSET_DATA) places.push({ origin: 'env', dirs: candidates(spec, path.resolve(env.PERTSET_DATA), false) });
    places.push({ origin: 'cache', dirs: candidates(spec, cacheDir(env), false) });
    if (options.system !== false) places.push({ origin: 'system', dirs: spec.systemDirs });
  }
  const searched: string[] = [];
  const seen = new Set<string>();
  for (const { origin, dirs } of places) {
    for (const dir of dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      const found = filesIn(spec, dir);
      const why = 'missing' in found ? (fs.existsSync(dir) ? found.missing : 'no such folder') : differsFrom(found.files, expect.sha256);
      if (!why && 'files' in found) return { name: expect.name, requested: expect.name, origin, dir, files: found.files, searched };
      searched.push(`${dir} (${origin}: ${why})`);
    }
  }
  const sums = expect.sha256 ? Object.entries(expect.sha256).map(([n, h]) => `${n} ${short(h)}`).join(', ') : 'no checksums recorded';
  throw new DataFormatError(
    `the run's data, ${spec.title} (sha256 ${sums}${expect.dir ? `, read from ${expect.dir}` : ''}), was not found: looked in ${searched.join('; ')}. ` +
      `A run continues only on the data it recorded; pass the folder holding these files with --data DIR`,
  );
}

export function locateDataset(requested: DatasetName, options: LocateOptions = {}): LocatedDataset {
  if (options.expect) return locateRecorded(options.expect, options);
  const spec = DATASETS[requested];
  if (!spec) throw new DataFormatError(`unknown dataset "${requested}"; expected one of ${Object.keys(DATASETS).join(', ')}`);
  const env = options.env ?? process.env;
  const searched: string[] = [];
  const embedded = (): LocatedDataset => {
    const dir = embeddedDir();
    const found = filesIn(DATASETS.embedded, dir);
    if ('missing' in found) throw new DataFormatError(`embedded dataset is incomplete in ${dir}: ${found.missing} (broken install?)`);
    return { name: 'embedded', requested, origin: 'embedded', dir, files: found.files, searched };
  };
  if (requested === 'embedded') return embedded();

  const roots: Array<{ origin: DataOrigin; root: string; includeRoot: boolean }> = [];
  if (options.dir) roots.push({ origin: 'explicit', root: path.resolve(options.dir), includeRoot: true });
  else {
    if (env.PERTSET_DATA) roots.push({ origin: 'env', root: path.resolve(env.PERTSET_DATA), includeRoot: false });
    roots.push({ origin: 'cache', root: cacheDir(env), includeRoot: false });
  }
  const places = roots.map(({ origin, root, includeRoot }) => ({ origin, dirs: candidates(spec, root, includeRoot) }));
  if (!options.dir && options.system !== false) places.push({ origin: 'system', dirs: spec.systemDirs });
  for (const { origin, dirs } of places) {
    for (const dir of dirs) {
      const found = filesIn(spec, dir);
      if ('files' in found) return { name: requested, requested, origin, dir, files: found.files, searched };
      searched.push(`${dir} (${origin}: ${fs.existsSync(dir) ? found.missing : 'no such folder'})`);
    }
  }
  if (options.dir) {
    throw new DataFormatError(`${spec.title} not found in ${options.dir}: looked in ${searched.join('; ')}`);
  }
  const mnistLike = requested === 'mnist' || requested === 'fashion-mnist';
  if (mnistLike && options.fallback !== false) return embedded();
  const hint = requested === 'mnist' ? '; run `pertset data download mnist`, or pass a folder (--data DIR / PERTSET_DATA)' : '; pass a folder (--data DIR) or set PERTSET_DATA';
  throw new DataFormatError(`${spec.title} not found: looked in ${searched.join('; ')}${hint}`);
}
