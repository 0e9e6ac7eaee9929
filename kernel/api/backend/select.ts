/**
 * Choosing the TensorFlow.js compute backend. This module is the only owner of tfjs's global
 * backend state: everything else calls `initBackend()` (idempotent) and never `tf.setBackend`.
 *
 * Order for `auto`: `@tensorflow/tfjs-node` when it can be loaded at run time (it is not a
 * dependency: its install downloads libtensorflow, which fails on offline machines), else `wasm`
 * (SIMD, with our kernel fixes and, when built, the native accelerator), else `cpu`.
 * `PERTSET_BACKEND` overrides the default. wasm threads are opt-in (`threads` or
 * `PERTSET_WASM_THREADS`, see wasm-threads.ts); the default single-threaded start is the stock one.
 */
import * as tf from '@tensorflow/tfjs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../errors';
import { installWasmKernels } from './wasm-kernels';
import { tryInstallNativeAccelerator, type NativeStatus } from './native';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendOptions {
  /** Which backend; default `PERTSET_BACKEND` or `auto`. */
  backend?: BackendName;
  /** wasm threads (opt-in, default 1; also `PERTSET_WASM_THREADS`). */
  threads?: number;
}

export interface BackendInfo {
  /** The tfjs backend now active: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** What was asked for. */
  requested: BackendName;
  /** Human-readable reasons for the choice (one line each), e.g. why tfjs-node was not used. */
  notes: string[];
  threads: number;
  /** wasm only: the kernel fixes installed (one line each). */
  wasmKernels: string[];
  /** wasm only: the native accelerator's state. */
  native: NativeStatus | null;
}

let current: BackendInfo | null = null;

export function parseBackendName(s: string | undefined, where = 'backend'): BackendName {
  const v = (s ?? 'auto').trim();
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new ConfigError(`${where}: unknown backend "${v}"; expected one of ${BACKEND_NAMES.join(', ')}`);
}

function tryTfjsNode(notes: string[]): boolean {
  try {
    // Resolved at run time only: users who installed tfjs-node get native TensorFlow.
    require('@tensorflow/tfjs-node');
    return true;
  } catch (e) {
    notes.push(`tfjs-node not available (${(e as Error).message.split('\n')[0]})`);
    return false;
  }
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

/** Threads asked for: the option, else `PERTSET_WASM_THREADS`, else 1. */
export function requestedWasmThreads(options: BackendOptions): number {
  const raw = options.threads ?? process.env.PERTSET_WASM_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  const where = options.threads !== undefined ? 'threads' : 'PERTSET_WASM_THREADS';
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError(`${where}: expected an integer from 1 to 64, got "${raw}"`);
  return n;
}

async function tryWasm(notes: string[], threads: number): Promise<boolean> {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmModule;
    // Not tf.findBackend: it would start initialising wasm (without our thread setup).
    const initialised = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm != null;
    if (!initialised) wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    if (threads > 1 && !initialised) {
      // Opt-in: patched initialisation (see wasm-threads.ts); the default path stays untouched.
      const { initWithThreads } = require('./wasm-threads') as typeof import('./wasm-threads');
      return await initWithThreads(wasm, threads, () => tf.setBackend('wasm'));
    }
    const ok = await tf.setBackend('wasm');
    if (ok && initialised && threads !== wasm.getThreadsCount()) {
      notes.push(`${threads} wasm threads requested, but wasm was already initialised with ${wasm.getThreadsCount()} in this process`);
    }
    return ok;
  } catch (e) {
    notes.push(`wasm backend failed to start (${(e as Error).message})`);
    return false;
  }
}

/** Threads the active backend computes with. */
function activeThreads(name: string): number {
  if (name === 'wasm') return (require('@tensorflow/tfjs-backend-wasm') as WasmModule).getThreadsCount();
  if (name === 'tensorflow') return os.cpus().length;
  return 1;
}

/** Select and initialise the backend (once per process; later calls return the same info unless `backend` differs). */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const requested = options.backend ?? parseBackendName(process.env.PERTSET_BACKEND, 'PERTSET_BACKEND');
  if (current && (options.backend === undefined || current.requested === requested)) return current;
  const threads = requestedWasmThreads(options);
  const notes: string[] = [];
  let name: string;
  if (requested === 'tensorflow') {
    if (!tryTfjsNode(notes)) throw new ConfigError(`backend "tensorflow" requested but ${notes[0]}`);
    await tf.setBackend('tensorflow');
    name = 'tensorflow';
  } else if (requested === 'wasm') {
    if (!(await tryWasm(notes, threads))) throw new ConfigError(`backend "wasm" requested but ${notes.join('; ')}`);
    name = 'wasm';
  } else if (requested === 'cpu') {
    await tf.setBackend('cpu');
    name = 'cpu';
  } else if (tryTfjsNode(notes) && (await tf.setBackend('tensorflow'))) {
    name = 'tensorflow';
  } else if (await tryWasm(notes, threads)) {
    name = 'wasm';
  } else {
    await tf.setBackend('cpu');
    name = 'cpu';
  }
  await tf.ready();
  let wasmKernels: string[] = [];
  let native: NativeStatus | null = null;
  if (name === 'wasm') {
    wasmKernels = installWasmKernels({ disabled: process.env.PERTSET_WASM_FIXES === '0' });
    native = tryInstallNativeAccelerator({ enabled: !['0', 'false', 'off'].includes(process.env.PERTSET_NATIVE ?? '') });
    notes.push(`native accelerator: ${native.active ? 'on' : 'off'} (${native.reason})`);
  }
  current = { name, requested, notes, threads: activeThreads(name), wasmKernels, native };
  return current;
}

/** The active backend, or null before `initBackend()`. */
export function backendInfo(): BackendInfo | null {
  return current;
}
