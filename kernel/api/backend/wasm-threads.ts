/**
 * Opt-in multithreaded wasm in Node (shared research backends.md §4). tfjs-backend-wasm 4.22
 * hard-wires `WASM_HAS_MULTITHREAD_SUPPORT` to false in Node (tfjs issue #3830), and forcing it
 * alone hangs: Emscripten is handed `blob:` URLs for its pthread worker script, which Node's
 * worker_threads cannot load. While the backend initialises, this module therefore
 *  - turns the flag on and asks for `count` threads,
 *  - turns the worker Blob into a real temp file whose preamble `require()`s the Emscripten
 *    factory and skips the `importScripts(blob:…)` that would fail,
 *  - doubles `os.cpus()`, because XNNPACK caps its pool at half the logical cores (1 on 2 vCPUs).
 * Everything is restored once initialisation is over. It relies on 4.22 internals (pinned).
 * Caveat: the pthread workers keep the process alive, so a CLI must call process.exit().
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

// The module object itself (not an import namespace, whose members are read-only getters):
// tfjs's node bundle calls `require('os').cpus()` on this same object.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeOs = require('os') as { cpus: typeof os.cpus };

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

/** Blob that remembers its parts, so the worker source can be written to a file synchronously. */
class RecordingBlob extends Blob {
  readonly parts: unknown[];
  constructor(parts: unknown[] = [], options?: BlobPropertyBag) {
    super(parts as BlobPart[], options);
    this.parts = parts;
  }
}

let workerFile: string | null = null;

function writeWorkerFile(source: string): string {
  if (workerFile && fs.existsSync(workerFile)) return workerFile;
  const factory = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const preamble = [
    '// pertset: pthread worker for tfjs-backend-wasm in Node (see kernel/api/backend/wasm-threads.ts)',
    `globalThis.WasmBackendModuleThreadedSimd = require(${JSON.stringify(factory)});`,
    'let pertsetImportScripts;',
    'Object.defineProperty(globalThis, "importScripts", { configurable: true,',
    '  get() { return (f) => (typeof f === "string" && f.startsWith("blob:") ? undefined : pertsetImportScripts(f)); },',
    '  set(v) { pertsetImportScripts = v; } });',
    '',
  ].join('\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-wasm-'));
  const file = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  fs.writeFileSync(file, preamble + source);
  // The pool's workers load the file during initialisation; it is not needed after the process.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  workerFile = file;
  return file;
}

/**
 * Runs `init` (which must call tf.setBackend('wasm')) with `count` wasm threads enabled and
 * returns its result. The count XNNPACK really uses is `getThreadsCount()` afterwards (it never
 * exceeds the core count). The pthread pool is created during initialisation, which is why the
 * patches can be undone right after it.
 */
export async function initWithThreads(wasm: WasmModule, count: number, init: () => Promise<boolean>): Promise<boolean> {
  const g = globalThis as unknown as { Blob: typeof Blob };
  const realBlob = g.Blob;
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = nodeOs.cpus;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(count);
  g.Blob = RecordingBlob as unknown as typeof Blob;
  URL.createObjectURL = (obj: Blob) => {
    if (obj instanceof RecordingBlob && obj.type === 'application/javascript') return writeWorkerFile(obj.parts.join(''));
    return realCreateObjectURL(obj);
  };
  nodeOs.cpus = () => {
    const cpus = realCpus.call(nodeOs);
    return [...cpus, ...cpus];
  };
  try {
    return await init();
  } finally {
    g.Blob = realBlob;
    URL.createObjectURL = realCreateObjectURL;
    nodeOs.cpus = realCpus;
  }
}
