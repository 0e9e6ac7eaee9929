/**
 * Jupyter wire-protocol messages (HMAC-SHA256 signed multipart frames). tslab parses messages
 * with a class it does not export; this one has the same public shape (`createReply`,
 * `signAndSend`), so tslab's ZmqServer methods accept it, and it lets our server read a
 * message's type before deciding how to schedule it.
 * https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import { createHmac, randomBytes, timingSafeEqual } from 'crypto';

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
    sock.send([...this.identity, DELIM, key ? sign(key, bodies) : '', ...bodies, ...this.extra]);
  }
}
