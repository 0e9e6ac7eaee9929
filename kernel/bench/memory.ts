/**
 * Memory figures of a bench workload: the process's peak resident set (RSS) over the workload and
 * the wasm heap size. On Linux the peak is reset before each workload (writing 5 to
 * /proc/self/clear_refs sets VmHWM to the current RSS), so each workload's figure is its own
 * peak, which still includes what the process held before it (Node, tfjs, the wasm heap).
 * Elsewhere the peak is the process's lifetime maximum (`process.resourceUsage().maxRSS`).
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';

/** Starts a new peak-RSS window; false when the platform cannot (the peak is then lifetime). */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS in bytes since the last reset (or since the process started). */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Size of the wasm backend's heap in bytes (it only grows), or null on another backend. */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? heap.buffer.byteLength : null;
}
