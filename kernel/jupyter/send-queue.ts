/**
 * Sending on the kernel's ZeroMQ sockets without ever throwing EBUSY and without reordering.
 * (The message codec itself is kernel/jupyter/wire.ts, shared with the extension.)
 */
import { writeSync } from 'fs';

export interface Socket {
  send(frames: Array<Buffer | string>): unknown;
}

// zeromq 6 sends synchronously while it can, but after a burst it defers a send to the next
// event-loop tick and, until then, throws EBUSY for any other send on that socket; under heavy
// output (live training displays) that killed the kernel. So: send at once when nothing is
// waiting (output written before a busy synchronous loop still goes out), otherwise keep the
// frames in a per-socket queue drained in order when the deferred send completes.
interface SendState {
  /** Messages waiting for the deferred send; non-empty exactly while a drain is scheduled. */
  queue: Array<Array<Buffer | string>>;
  last: Promise<unknown>;
}
const sendStates = new WeakMap<Socket, SendState>();

function reportSendFailure(e: unknown): void {
  // Never through process.stderr: in the kernel that is itself a Jupyter stream on a socket.
  try {
    writeSync(2, `pertset kernel: a message could not be sent: ${(e as Error)?.message ?? e}\n`);
  } catch {
    /* nothing left to report to */
  }
}

/** Tries one send; returns false when the socket is busy (EBUSY), true when handed to zeromq. */
function trySend(sock: Socket, state: SendState, frames: Array<Buffer | string>): boolean {
  try {
    const p = Promise.resolve(sock.send(frames));
    p.catch(reportSendFailure);
    state.last = p;
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'EBUSY') return false;
    reportSendFailure(e);
    return true; // a closed socket: drop the message rather than block the queue forever
  }
}

/** Retries the queue once the deferred send settles (however it settles). */
function scheduleDrain(sock: Socket, state: SendState): void {
  state.last.then(() => drain(sock, state), () => drain(sock, state));
}

function drain(sock: Socket, state: SendState): void {
  while (state.queue.length > 0) {
    if (!trySend(sock, state, state.queue[0])) {
      scheduleDrain(sock, state);
      return;
    }
    state.queue.shift();
  }
}

export function queueSend(sock: Socket, frames: Array<Buffer | string>): void {
  let state = sendStates.get(sock);
  if (!state) {
    state = { queue: [], last: Promise.resolve() };
    sendStates.set(sock, state);
  }
  if (state.queue.length > 0) {
    state.queue.push(frames); // behind the waiting ones, which a scheduled drain will send
    return;
  }
  if (trySend(sock, state, frames)) return;
  state.queue.push(frames);
  scheduleDrain(sock, state);
}

/**
 * Resolves once every message queued on `sock` so far has been handed to ZeroMQ. The kernel awaits
 * it before running a cell's code: a synchronous busy loop blocks the event loop, so output it
 * prints can only go out at once if no earlier message is still waiting in the queue.
 */
export async function whenSent(sock: Socket): Promise<void> {
  const state = sendStates.get(sock);
  if (!state) return;
  const settle = (): Promise<unknown> => state.last.then(() => undefined, () => undefined);
  while (state.queue.length > 0) await settle();
  await settle();
}
