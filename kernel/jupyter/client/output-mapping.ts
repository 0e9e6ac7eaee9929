/**
 * Jupyter iopub messages → notebook cell outputs, without `vscode`: the controller turns each
 * `MappedOutput` into a NotebookCellOutput 1:1. Handles streams (consecutive chunks of one stream
 * grow one output; carriage returns overwrite the line, as progress bars expect), display_data
 * and execute_result (MIME items ordered richest first), update_display_data (by display_id),
 * clear_output (including wait=true) and error.
 *
 * Output metadata follows what VS Code's built-in .ipynb serializer reads back (`outputType`,
 * `metadata`, `executionCount`, `transient`), so saved notebooks keep Jupyter's output types.
 */
import { randomUUID } from 'crypto';
import type { JupyterMessage } from '../wire';

export const STDOUT_MIME = 'application/vnd.code.notebook.stdout';
export const STDERR_MIME = 'application/vnd.code.notebook.stderr';
export const ERROR_MIME = 'application/vnd.code.notebook.error';

export interface MappedItem {
  mime: string;
  data: Uint8Array;
}

export interface MappedOutput {
  id: string;
  items: MappedItem[];
  metadata: {
    outputType: 'stream' | 'display_data' | 'execute_result' | 'error';
    metadata?: Record<string, unknown>;
    executionCount?: number | null;
    transient?: { display_id?: string };
  };
}

export type OutputChange =
  | { kind: 'append'; output: MappedOutput }
  /** `outputs[index]` got new items (a stream grew, a display was updated); same output id. */
  | { kind: 'replace'; index: number; output: MappedOutput }
  | { kind: 'clear' }
  /** update_display_data for a display this cell does not own (shown in an earlier cell). */
  | { kind: 'update-elsewhere'; displayId: string; output: MappedOutput };

/**
 * Order in which MIME items are offered, richest first (VS Code picks the first it can render):
 * vendor types such as ours and plotly, then HTML, images, markdown, JSON, plain text.
 */
const MIME_ORDER = [
  'application/vnd.*', 'text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/gif',
  'text/markdown', 'text/latex', 'application/json', 'text/plain',
];

function mimeRank(mime: string): number {
  const exact = MIME_ORDER.indexOf(mime);
  if (exact >= 0) return exact;
  if (mime.startsWith('application/vnd.')) return 0;
  return MIME_ORDER.length;
}

export function sortMimeTypes(mimes: string[]): string[] {
  return mimes.map((m, i) => ({ m, i })).sort((a, b) => mimeRank(a.m) - mimeRank(b.m) || a.i - b.i).map((x) => x.m);
}

const encoder = new TextEncoder();

function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || mime.endsWith('+json');
}

/** One MIME bundle value as bytes: base64 images decoded, JSON serialized, text as UTF-8. */
export function mimeValueToBytes(mime: string, value: unknown): Uint8Array {
  const text = Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join('') : value;
  if (typeof text === 'string') {
    if (mime.startsWith('image/') && mime !== 'image/svg+xml') return Buffer.from(text, 'base64');
    return encoder.encode(text);
  }
  if (isJsonMime(mime) || typeof text === 'object') return encoder.encode(JSON.stringify(text));
  return encoder.encode(String(text));
}

export function bundleToItems(data: Record<string, unknown>): MappedItem[] {
  return sortMimeTypes(Object.keys(data)).map((mime) => ({ mime, data: mimeValueToBytes(mime, data[mime]) }));
}

/**
 * Appends a stream chunk to text that may end in an unfinished line. A `\r` returns to the line
 * start, so the text after the last `\r` of a line replaces it; a trailing `\r` is kept (the next
 * chunk overwrites that line).
 */
export function appendStreamText(previous: string, chunk: string): string {
  const lines = (previous + chunk).replace(/\r\n/g, '\n').split('\n');
  return lines
    .map((line, i) => {
      const isLast = i === lines.length - 1;
      const body = line.endsWith('\r') ? line.slice(0, -1) : line;
      const start = body.lastIndexOf('\r');
      const visible = start >= 0 ? body.slice(start + 1) : body;
      return isLast && line.endsWith('\r') ? `${visible}\r` : visible;
    })
    .join('\n');
}

/** Visible form of stream text: without the pending trailing `\r`. */
export function visibleStreamText(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

interface StreamState {
  index: number;
  name: 'stdout' | 'stderr';
  text: string;
}

/** Builds the outputs of one cell execution from the iopub messages of its request. */
export class CellOutputBuilder {
  readonly outputs: MappedOutput[] = [];
  private stream?: StreamState;
  private clearOnNextOutput = false;
  private readonly displays = new Map<string, number[]>();

  /** Applies one iopub message; returns what changed (empty for messages that show nothing). */
  apply(msg: JupyterMessage): OutputChange[] {
    const c = msg.content as Record<string, unknown>;
    switch (msg.header.msg_type) {
      case 'stream':
        return this.withPendingClear(() => this.appendStream(c.name === 'stderr' ? 'stderr' : 'stdout', String(c.text ?? '')));
      case 'display_data':
      case 'execute_result': {
        const type = msg.header.msg_type as 'display_data' | 'execute_result';
        const transient = (c.transient ?? {}) as { display_id?: string };
        return this.withPendingClear(() => this.add({
          id: randomUUID(),
          items: bundleToItems((c.data ?? {}) as Record<string, unknown>),
          metadata: {
            outputType: type,
            metadata: (c.metadata ?? {}) as Record<string, unknown>,
            ...(type === 'execute_result' ? { executionCount: (c.execution_count as number | undefined) ?? null } : {}),
            ...(transient.display_id ? { transient } : {}),
          },
        }, transient.display_id));
      }
      case 'update_display_data':
        return this.updateDisplay(c);
      case 'error':
        return this.withPendingClear(() => this.add({
          id: randomUUID(),
          items: [{ mime: ERROR_MIME, data: encoder.encode(JSON.stringify(errorValue(c))) }],
          metadata: { outputType: 'error', metadata: {} },
        }));
      case 'clear_output':
        if (c.wait === true) {
          this.clearOnNextOutput = true;
          return [];
        }
        return this.clear();
      default:
        return [];
    }
  }

  private withPendingClear(make: () => OutputChange[]): OutputChange[] {
    const cleared = this.clearOnNextOutput ? this.clear() : [];
    this.clearOnNextOutput = false;
    return [...cleared, ...make()];
  }

  private clear(): OutputChange[] {
    this.outputs.length = 0;
    this.stream = undefined;
    this.displays.clear();
    return [{ kind: 'clear' }];
  }

  private add(output: MappedOutput, displayId?: string): OutputChange[] {
    this.stream = undefined;
    this.outputs.push(output);
    if (displayId) this.displays.set(displayId, [...(this.displays.get(displayId) ?? []), this.outputs.length - 1]);
    return [{ kind: 'append', output }];
  }

  private appendStream(name: 'stdout' | 'stderr', chunk: string): OutputChange[] {
    const mime = name === 'stderr' ? STDERR_MIME : STDOUT_MIME;
    const make = (id: string, text: string): MappedOutput => ({
      id,
      items: [{ mime, data: encoder.encode(visibleStreamText(text)) }],
      metadata: { outputType: 'stream', metadata: {} },
    });
    if (this.stream && this.stream.name === name && this.stream.index === this.outputs.length - 1) {
      this.stream.text = appendStreamText(this.stream.text, chunk);
      const output = make(this.outputs[this.stream.index].id, this.stream.text);
      this.outputs[this.stream.index] = output;
      return [{ kind: 'replace', index: this.stream.index, output }];
    }
    const text = appendStreamText('', chunk);
    const output = make(randomUUID(), text);
    this.outputs.push(output);
    this.stream = { index: this.outputs.length - 1, name, text };
    return [{ kind: 'append', output }];
  }

  private updateDisplay(c: Record<string, unknown>): OutputChange[] {
    const transient = (c.transient ?? {}) as { display_id?: string };
    const displayId = transient.display_id;
    if (!displayId) return [];
    const items = bundleToItems((c.data ?? {}) as Record<string, unknown>);
    const metadata = (c.metadata ?? {}) as Record<string, unknown>;
    const indices = this.displays.get(displayId);
    if (!indices) {
      return [{ kind: 'update-elsewhere', displayId, output: { id: randomUUID(), items, metadata: { outputType: 'display_data', metadata, transient } } }];
    }
    return indices.map((index) => {
      const prev = this.outputs[index];
      const output: MappedOutput = { id: prev.id, items, metadata: { ...prev.metadata, metadata } };
      this.outputs[index] = output;
      return { kind: 'replace' as const, index, output };
    });
  }
}

/** The value VS Code's error renderer expects: { name, message, stack }. */
function errorValue(c: Record<string, unknown>): { name: string; message: string; stack: string } {
  const name = String(c.ename ?? 'Error');
  const message = String(c.evalue ?? '');
  const traceback = Array.isArray(c.traceback) ? c.traceback.map(String) : [];
  return { name, message, stack: traceback.length ? traceback.join('\n') : `${name}: ${message}` };
}
