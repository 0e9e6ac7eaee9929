/**
 * Reads a data file into memory, gunzipping it when it is gzip-compressed. Compression is
 * detected from the gzip magic bytes rather than the file name, so `foo.gz` holding raw bytes
 * and a raw name holding gzip both load.
 *
 * A file's identity is the sha256 of its DECOMPRESSED bytes (the same for `x` and `x.gz`, and for
 * MNIST equal to the official hashes). It is computed when the file is read and remembered per
 * (path, size, mtime), so recording and verifying a run's data costs no second read.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataFormatError } from '../errors';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const knownHashes = new Map<string, string>();

function statKey(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${file}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** Decompresses `bytes` if they are gzip; `file` only names the source in error messages. */
export function maybeGunzip(bytes: Buffer, file: string): Buffer {
  if (!isGzip(bytes)) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {
    throw new DataFormatError(`${file}: gzip data is truncated or corrupt (${(e as Error).message})`);
  }
}

/** The file's decompressed bytes; a missing or unreadable file is a DataFormatError naming it. */
export function readDataFile(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? (e as Error).message})`;
    throw new DataFormatError(`${file}: ${why}`);
  }
  const bytes = maybeGunzip(raw, file);
  const key = statKey(file);
  if (key) knownHashes.set(key, sha256Hex(bytes));
  return bytes;
}

/** sha256 of the file's decompressed bytes (remembered while the file is unchanged). */
export function contentSha256(file: string): string {
  const key = statKey(file);
  const known = key ? knownHashes.get(key) : undefined;
  if (known) return known;
  const bytes = readDataFile(file);
  return knownHashes.get(statKey(file) ?? '') ?? sha256Hex(bytes);
}
