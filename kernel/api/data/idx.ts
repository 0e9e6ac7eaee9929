/**
 * Checked reader for the IDX format of MNIST and Fashion-MNIST: magic number
 * `0x00 0x00 <type> <ndim>`, then `ndim` big-endian uint32 sizes, then the data. Only the
 * unsigned-byte type (0x08) occurs in these datasets, so only it is accepted.
 */
import { DataFormatError } from '../errors';
import { readDataFile } from './file-bytes';

export interface IdxArray {
  /** Sizes of each dimension, e.g. [60000, 28, 28] for images or [60000] for labels. */
  dims: number[];
  /** The elements in row-major order. */
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/** Parses IDX bytes; `file` names the source in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) {
    throw new DataFormatError(`${file}: truncated IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  }
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(`${file}: bad magic number ${hex}; an IDX file starts with 0x0000 (e.g. 0x00000803 for images, 0x00000801 for labels)`);
  }
  if (bytes[2] !== IDX_UBYTE) {
    throw new DataFormatError(`${file}: bad magic number ${hex}: element type 0x${bytes[2].toString(16).padStart(2, '0')} is not unsigned byte (0x08)`);
  }
  const ndim = bytes[3];
  if (ndim < 1) throw new DataFormatError(`${file}: bad magic number ${hex}: zero dimensions`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(`${file}: truncated IDX header: ${bytes.length} bytes, the header of a ${ndim}-dimensional array needs ${headerBytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length < expected) {
    throw new DataFormatError(`${file}: truncated IDX file: header declares [${dims.join(', ')}] = ${expected} bytes, file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DataFormatError(`${file}: wrong size: header declares [${dims.join(', ')}] = ${expected} bytes, file has ${bytes.length} (${bytes.length - expected} extra)`);
  }
  return { dims, data: bytes.subarray(headerBytes, expected) };
}

/** Reads an IDX file (gzip or raw). */
export function readIdx(file: string): IdxArray {
  return parseIdx(readDataFile(file), file);
}

export interface IdxImagesAndLabels {
  /** uint8 pixels, [count, height, width] row-major (one channel). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** Reads an image file (3 dims) and its label file (1 dim) and checks they agree. */
export function readIdxImagesAndLabels(imagesFile: string, labelsFile: string): IdxImagesAndLabels {
  const images = readIdx(imagesFile);
  if (images.dims.length !== 3) {
    throw new DataFormatError(`${imagesFile}: expected an image array with 3 dimensions [count, height, width], got [${images.dims.join(', ')}]`);
  }
  const labels = readIdx(labelsFile);
  if (labels.dims.length !== 1) {
    throw new DataFormatError(`${labelsFile}: expected a label array with 1 dimension [count], got [${labels.dims.join(', ')}]`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataFormatError(`${labelsFile}: header declares ${labels.dims[0]} labels but ${imagesFile} declares ${count} images`);
  }
  return { images: images.data, labels: labels.data, count, height, width };
}
