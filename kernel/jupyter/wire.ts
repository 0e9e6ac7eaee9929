/**
 * The Jupyter wire protocol 5.3, once for both ends: the kernel (compiled by tsc) and the VS Code
 * extension's kernel client (bundled by esbuild). Message shape, HMAC-SHA256 signing and the
 * multipart frame layout `[...identities, "<IDS|MSG>", signature, header, parent, metadata, content, ...buffers]`.
 * Node only (it signs with `crypto`), so it lives with the kernel rather than in kernel/contract/,
 * which the browser renderers compile too.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html#the-wire-protocol
 */
import { createHmac, randomUUID, timingSafeEqual } from 'crypto';

export const PROTOCOL_VERSION = '5.3';
const DELIMITER = '<IDS|MSG>';
const DELIMITER_BYTES = Buffer.from(DELIMITER);

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface JupyterMessage<C = Record<string, unknown>> {
  header: MessageHeader;
  /** Header of the request this message answers (empty object when none). */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** A message that is not valid on the wire (no delimiter, missing parts, bad signature, bad JSON). */
export class WireError extends Error {
  override name = 'WireError';
}

export function newMessage<C>(msgType: string, content: C, session: string, parent: Partial<MessageHeader> = {}, username = 'pertset'): JupyterMessage<C> {
  return {
    header: { msg_id: randomUUID(), session, username, date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION },
    parent_header: parent,
    metadata: {},
    content,
    buffers: [],
  };
}

/** A reply or IOPub message caused by `parent` (same session and user). */
export function replyTo<C>(parent: JupyterMessage<unknown>, msgType: string, content: C): JupyterMessage<C> {
  return newMessage(msgType, content, parent.header.session, parent.header, parent.header.username);
}

/** Signs and serializes messages into ZeroMQ frames, and parses and verifies them back. */
export class MessageCodec {
  constructor(
    private readonly key: string,
    scheme = 'hmac-sha256',
  ) {
    if (key && scheme !== 'hmac-sha256') throw new WireError(`unsupported signature_scheme "${scheme}" (only hmac-sha256)`);
  }

  /** The signature covers the four JSON parts only; binary buffers follow unsigned. Empty without a key. */
  private sign(parts: Array<string | Buffer>): string {
    if (!this.key) return '';
    const hmac = createHmac('sha256', this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest('hex');
  }

  /** Frames for `msg`; `identities` route a ROUTER socket's reply to its requester. */
  encode(msg: JupyterMessage<unknown>, identities: Buffer[] = []): Array<Buffer | string> {
    const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => JSON.stringify(x));
    return [...identities, DELIMITER, this.sign(parts), ...parts, ...msg.buffers];
  }

  /** Parses and verifies frames; throws a WireError naming the problem. */
  decode(frames: Buffer[]): { identities: Buffer[]; message: JupyterMessage } {
    const at = frames.findIndex((f) => f.equals(DELIMITER_BYTES));
    if (at < 0) throw new WireError(`jupyter message without the ${DELIMITER} delimiter`);
    const parts = frames.slice(at + 2);
    if (at + 1 >= frames.length || parts.length < 4) throw new WireError(`jupyter message with ${Math.max(0, parts.length)} parts after the signature, expected at least 4`);
    if (this.key) {
      const expected = Buffer.from(this.sign(parts.slice(0, 4)));
      const signature = frames[at + 1];
      if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) throw new WireError('jupyter message with an invalid HMAC signature');
    }
    let json: unknown[];
    try {
      json = parts.slice(0, 4).map((p) => JSON.parse(p.toString('utf8')));
    } catch (e) {
      throw new WireError(`jupyter message with a part that is not JSON (${(e as Error).message})`);
    }
    const [header, parent_header, metadata, content] = json as [MessageHeader, Partial<MessageHeader>, Record<string, unknown>, Record<string, unknown>];
    return { identities: frames.slice(0, at), message: { header, parent_header, metadata, content, buffers: parts.slice(4) } };
  }
}
