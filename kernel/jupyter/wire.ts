/**
 * Jupyter wire-protocol messages (HMAC-SHA256 signed multipart frames). tslab parses messages
 * with a class it does not export; this one has the same public shape (`createReply`,
 * `signAndSend`), so tslab's ZmqServer methods accept it, and it lets our server read a
 * message's type before deciding how to schedule it.
 * https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { writeSync } from 'fs';

const DELIM = Buffer.from('<IDS|MSG>');

export interface Header {
  version: string;
  date: string;
  session: string;
  username: string;
  msg_type: string;
  msg_id: string;
}

export interface Socket {
  send(frames: Array<Buffer | string>): unknown;
}

function sign(key: string, parts: Array<Buffer | string>): string {
  const hmac = createHmac('sha256', key);
  for (const p of parts) hmac.update(p);
  return hmac.digest('hex');
}

export class Message {
  identity: Buffer[] = [];
  delim = '<IDS|MSG>';
  hmac = '';
  header!: Header;
  parent!: Header;
  metadata: object = {};
  content: object = {};
  extra: Buffer[] = [];

  /** Parses and verifies a raw multipart message; throws naming the problem. */
  static parse(key: string, frames: Buffer[]): Message {
    const m = new Message();
    const at = frames.findIndex((f) => f.equals(DELIM));
    if (at < 0) throw new Error('jupyter message without the <IDS|MSG> delimiter');
    m.identity = frames.slice(0, at);
    m.hmac = frames[at + 1].toString();
    const parts = frames.slice(at + 2);
    if (parts.length < 4) throw new Error(`jupyter message with ${parts.length} parts after the signature, expected at least 4`);
    if (key) {
      const want = Buffer.from(sign(key, parts.slice(0, 4)));
      const got = Buffer.from(m.hmac);
      if (want.length !== got.length || !timingSafeEqual(want, got)) throw new Error('jupyter message with an invalid HMAC signature');
    }
    m.header = JSON.parse(parts[0].toString());
    m.parent = JSON.parse(parts[1].toString());
    m.metadata = JSON.parse(parts[2].toString());
    m.content = JSON.parse(parts[3].toString());
    m.extra = parts.slice(4);
    return m;
  }

  /** A reply/iopub message whose parent is this one (msg_type to be set by the caller). */
  createReply(): Message {
    const r = new Message();
    r.identity = this.identity;
    r.header = {
      version: '5.3',
      date: new Date().toISOString(),
      session: this.header.session,
      username: this.header.username,
      msg_type: this.header.msg_type,
      msg_id: randomBytes(16).toString('hex'),
    };
    r.parent = this.header;
    return r;
  }

  /** A reply of `msgType` with `content`. */
  reply(msgType: string, content: object): Message {
    const r = this.createReply();
    r.header.msg_type = msgType;
    r.content = content;
    return r;
  }

  signAndSend(key: string, sock: Socket): void {
    const bodies = [this.header, this.parent, this.metadata, this.content].map((x) => JSON.stringify(x));
    // The signature covers the four JSON parts only; binary buffers follow unsigned.
    queueSend(sock, [...this.identity, DELIM, key ? sign(key, bodies) : '', ...bodies, ...this.extra]);
  }
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
