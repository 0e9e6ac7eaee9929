/**
 * Coalescing IOPub output, as ipykernel does: a cell printing 100,000 lines must not become
 * 100,000 messages (clients spend milliseconds on each, so `idle` arrived minutes late, and a
 * subscriber that falls behind by the socket's high-water mark loses messages).
 *
 * - Output after a quiet `intervalMs`, and a cell's first output, go out at once (so a line
 *   printed before a long synchronous computation is seen before it: while the computation
 *   blocks the event loop no timer can send it); what follows within `intervalMs` is buffered
 *   and sent when the interval ends, or at once when `maxChars` are waiting. Consecutive writes
 *   to the same stream of the same cell become one message.
 * - `update_display_data` for a display id still waiting replaces the waiting one in its place
 *   (a fast training loop's intermediate states are skipped; the final state always goes out).
 * - Every other message (display_data, clear_output, execute_result, error, status, ...) first
 *   sends everything waiting, so the order of outputs is the order they were written in.
 */
import type { JupyterMessage } from './wire';

type Parent = JupyterMessage<unknown>;

type Pending =
  | { kind: 'stream'; parent: Parent; name: string; chunks: string[] }
  | { kind: 'update'; parent: Parent; displayId: string; content: object };

export interface CoalescingOptions {
  /** Longest time output waits before it is sent (ms). */
  intervalMs?: number;
  /** Buffered stream characters that trigger a send at once (keeps synchronous loops streaming). */
  maxChars?: number;
}

export class IopubCoalescer {
  private pending: Pending[] = [];
  /** Pending updates by display id (entries of `pending`). */
  private updates = new Map<string, Extract<Pending, { kind: 'update' }>>();
  private chars = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When stream text or a display update was last sent (performance.now()), and for which request. */
  private lastOutputAt = -Infinity;
  private lastOutputParent: Parent | undefined;
  private readonly intervalMs: number;
  private readonly maxChars: number;

  constructor(
    /** Signs and sends one message now. */
    private readonly send: (parent: Parent, msgType: string, content: object) => void,
    options: CoalescingOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 50;
    this.maxChars = options.maxChars ?? 64 * 1024;
  }

  stream(parent: Parent, name: string, text: string): void {
    if (!text) return;
    if (this.quiet(parent)) return this.sendOutput(parent, 'stream', { name, text });
    const last = this.pending[this.pending.length - 1];
    if (last?.kind === 'stream' && last.name === name && last.parent === parent) last.chunks.push(text);
    else this.pending.push({ kind: 'stream', parent, name, chunks: [text] });
    this.chars += text.length;
    if (this.chars >= this.maxChars) this.flush();
    else this.schedule();
  }

  /** An `update_display_data`; without a display id there is nothing to replace, so it is published. */
  updateDisplay<C extends { transient?: { display_id?: string } }>(parent: Parent, content: C): void {
    const id = content.transient?.display_id;
    if (!id) return this.publish(parent, 'update_display_data', content);
    if (this.quiet(parent)) return this.sendOutput(parent, 'update_display_data', content);
    const waiting = this.updates.get(id);
    if (waiting && waiting.parent === parent) {
      waiting.content = content;
    } else {
      const entry = { kind: 'update' as const, parent, displayId: id, content };
      this.pending.push(entry);
      this.updates.set(id, entry);
    }
    this.schedule();
  }

  /** Any other message: sent now, after everything that was written before it. */
  publish(parent: Parent, msgType: string, content: object): void {
    this.flush();
    this.send(parent, msgType, content);
  }

  /** Sends everything waiting, in order. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.updates.clear();
    this.chars = 0;
    for (const p of pending) {
      if (p.kind === 'stream') this.sendOutput(p.parent, 'stream', { name: p.name, text: p.chunks.join('') });
      else this.sendOutput(p.parent, 'update_display_data', p.content);
    }
  }

  /** Nothing waiting, and no output sent for an interval or none yet for this cell: new output need not wait. */
  private quiet(parent: Parent): boolean {
    return this.pending.length === 0 && (parent !== this.lastOutputParent || performance.now() - this.lastOutputAt >= this.intervalMs);
  }

  private sendOutput(parent: Parent, msgType: string, content: object): void {
    this.lastOutputAt = performance.now();
    this.lastOutputParent = parent;
    this.send(parent, msgType, content);
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.intervalMs);
  }
}
