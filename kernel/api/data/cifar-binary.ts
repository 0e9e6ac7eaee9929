/**
 * Checked reader for CIFAR-10's binary record format (`cifar-10-batches-bin/*.bin`): each record
 * is 1 label byte then 3072 pixel bytes, stored channel-major (1024 R, 1024 G, 1024 B, each
 * 32×32 row-major). Pixels are returned channel-last (HWC), the layout tfjs uses.
 */
import { DataFormatError } from '../errors';
import { readDataFile } from './file-bytes';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_PIXELS;
export const CIFAR_CLASSES = 10;

export interface CifarRecords {
  /** uint8 pixels, [count, 32, 32, 3] row-major (HWC). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Parses the bytes of one CIFAR-10 binary batch; `file` names the source in error messages. */
export function parseCifarBinary(bytes: Uint8Array, file: string): CifarRecords {
  if (bytes.length === 0) throw new DataFormatError(`${file}: empty file, expected ${CIFAR_RECORD_BYTES}-byte CIFAR-10 records`);
  const remainder = bytes.length % CIFAR_RECORD_BYTES;
  if (remainder !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new DataFormatError(
      `${file}: wrong size: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR-10 records ` +
        `(${whole} records and ${remainder} bytes left over; truncated?)`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD_BYTES;
    const label = bytes[rec];
    if (label >= CIFAR_CLASSES) {
      throw new DataFormatError(`${file}: record ${n} (byte offset ${rec}) has label ${label}, expected 0..9; not a CIFAR-10 binary file?`);
    }
    labels[n] = label;
    const src = rec + 1;
    const dst = n * CIFAR_PIXELS;
    for (let p = 0; p < plane; p++) {
      const o = dst + p * CIFAR_CHANNELS;
      images[o] = bytes[src + p];
      images[o + 1] = bytes[src + plane + p];
      images[o + 2] = bytes[src + 2 * plane + p];
    }
  }
  return { images, labels, count };
}

/** Reads a CIFAR-10 binary batch file (gzip or raw). */
export function readCifarBinary(file: string): CifarRecords {
  return parseCifarBinary(readDataFile(file), file);
}
