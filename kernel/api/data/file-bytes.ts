/**
 * Reads a data file into memory, gunzipping it when it is gzip-compressed. Compression is
 * detected from the gzip magic bytes rather than the file name, so `foo.gz` holding raw bytes
 * and a raw name holding gzip both load.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataFormatError } from '../errors';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

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
  return maybeGunzip(raw, file);
}
