/**
 * `pertset data download mnist`: fetches the four MNIST files from public mirrors into the cache,
 * verifying the sha256 of the DECOMPRESSED bytes (mirrors recompress, so compressed hashes differ
 * between them, while the raw bytes are LeCun's originals). Files are written to a temporary
 * name and renamed, so an interrupted download never leaves a half file that looks complete.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DataFormatError, PertsetError } from '../errors';
import { ensureDir } from '../output-dir';
import { isGzip, maybeGunzip, sha256Hex } from './file-bytes';
import { cacheDir, findFile } from './locate';

/** Mirrors tried in order: the S3 bucket torchvision uses, then Google's CVDF copy. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];

/** sha256 of the decompressed files (= the original LeCun files; see ../shared/data/SOURCES.md). */
export const MNIST_RAW_SHA256: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};

/** A download failed on every mirror, or a checksum did not match. */
export class DownloadError extends PertsetError {}

export interface DownloadProgress {
  file: string;
  url: string;
  received: number;
  /** From Content-Length, when the server sent it. */
  total?: number;
}

export interface DownloadOptions {
  /** Cache root; files go to `<cache>/mnist/`. Default: `cacheDir()`. */
  cache?: string;
  /** Mirror base URLs tried in order. Default: `PERTSET_MNIST_MIRROR` (comma-separated) or `MNIST_MIRRORS`. */
  mirrors?: string[];
  /** Download again even when a verified copy is present. */
  force?: boolean;
  /** Per-request timeout in ms. Default 120 000. */
  timeoutMs?: number;
  callbacks?: DownloadCallbacks;
  env?: NodeJS.ProcessEnv;
}

/** Progress of a download, called from the network stream (so not awaited). */
export interface DownloadCallbacks {
  /** Bytes received so far for the file being fetched. */
  onProgress?: (p: DownloadProgress) => void;
  /** One line per event (mirror tried, failure, file verified). */
  onLog?: (line: string) => void;
}

export interface DownloadedFile {
  name: string;
  path: string;
  sha256: string;
  /** The mirror it came from, or `cached` when a verified copy was already there. */
  from: string;
}

/** Mirror list from options, then `PERTSET_MNIST_MIRROR`, then the defaults. */
export function mnistMirrors(options: Pick<DownloadOptions, 'mirrors' | 'env'> = {}): string[] {
  const env = options.env ?? process.env;
  const list = options.mirrors?.length ? options.mirrors : env.PERTSET_MNIST_MIRROR ? env.PERTSET_MNIST_MIRROR.split(',') : [...MNIST_MIRRORS];
  return list.map((m) => m.trim()).filter(Boolean).map((m) => (m.endsWith('/') ? m : `${m}/`));
}

async function fetchBytes(url: string, file: string, options: DownloadOptions): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  const totalHeader = response.headers.get('content-length');
  const total = totalHeader ? Number(totalHeader) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(Buffer.from(chunk));
      received += chunk.length;
      options.callbacks?.onProgress?.({ file, url, received, total });
    }
  }
  if (total !== undefined && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
  return Buffer.concat(chunks);
}

function writeAtomically(target: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function verifiedExisting(dir: string, name: string): { path: string; sha256: string } | undefined {
  const existing = findFile(dir, name);
  if (!existing) return undefined;
  try {
    const sha = sha256Hex(maybeGunzip(fs.readFileSync(existing), existing));
    return sha === MNIST_RAW_SHA256[name] ? { path: existing, sha256: sha } : undefined;
  } catch (e) {
    if (e instanceof DataFormatError) return undefined;
    throw e;
  }
}

/**
 * Downloads MNIST into `<cache>/mnist/` and returns the verified files. Each file is tried on
 * every mirror in order; an HTTP error, a network error or a checksum mismatch moves on to the
 * next mirror, and when all fail the error lists what each mirror did.
 */
export async function downloadMnist(options: DownloadOptions = {}): Promise<DownloadedFile[]> {
  const env = options.env ?? process.env;
  const dir = path.join(options.cache ? path.resolve(options.cache) : cacheDir(env), 'mnist');
  ensureDir(dir, 'data cache');
  const mirrors = mnistMirrors(options);
  if (mirrors.length === 0) throw new DownloadError('no MNIST mirror given');
  const log = options.callbacks?.onLog ?? (() => undefined);
  const results: DownloadedFile[] = [];
  for (const [name, expected] of Object.entries(MNIST_RAW_SHA256)) {
    const present = options.force ? undefined : verifiedExisting(dir, name);
    if (present) {
      log(`${name}: already in ${dir}, sha256 verified`);
      results.push({ name, path: present.path, sha256: present.sha256, from: 'cached' });
      continue;
    }
    const failures: string[] = [];
    let done: DownloadedFile | undefined;
    for (const mirror of mirrors) {
      const url = `${mirror}${name}.gz`;
      log(`${name}: downloading ${url}`);
      try {
        const bytes = await fetchBytes(url, name, options);
        const sha = sha256Hex(maybeGunzip(bytes, url));
        if (sha !== expected) throw new Error(`sha256 mismatch of the decompressed bytes: expected ${expected}, got ${sha}`);
        const target = path.join(dir, isGzip(bytes) ? `${name}.gz` : name);
        writeAtomically(target, bytes);
        // Remove a stale copy under the other name (raw vs .gz) so discovery reads the new one.
        const other = target.endsWith('.gz') ? path.join(dir, name) : `${target}.gz`;
        fs.rmSync(other, { force: true });
        done = { name, path: target, sha256: sha, from: mirror };
        log(`${name}: sha256 verified, saved to ${target}`);
        break;
      } catch (e) {
        const why = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
        failures.push(`${url}: ${why}`);
        log(`${name}: failed on ${url}: ${why}`);
      }
    }
    if (!done) throw new DownloadError(`could not download ${name} from any mirror:\n  ${failures.join('\n  ')}`);
    results.push(done);
  }
  return results;
}
