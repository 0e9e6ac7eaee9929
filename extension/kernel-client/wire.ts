/**
 * Jupyter messaging protocol 5.3 on the wire: message shape, HMAC-SHA256 signing and the
 * multipart frame layout `[...identities, "<IDS|MSG>", signature, header, parent, metadata, content, ...buffers]`.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html
 */
import { createHmac, randomUUID, timingSafeEqual } from 'crypto';

export const PROTOCOL_VERSION = '5.3';
const DELIMITER = '<IDS|MSG>';

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

export function newMessage<C>(msgType: string, content: C, session: string, parent: Partial<MessageHeader> = {}): JupyterMessage<C> {
  return {
    header: { msg_id: randomUUID(), session, username: 'pertset', date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION },
    parent_header: parent,
    metadata: {},
    content,
    buffers: [],
  };
}

/** Signs and serializes a message into ZeroMQ frames. */
export class MessageCodec {
  constructor(
    private readonly key: string,
    private readonly scheme = 'hmac-sha256',
  ) {
    if (key && scheme !== 'hmac-sha256') throw new Error(`unsupported signature_scheme "${scheme}" (only hmac-sha256)`);
  }

  private sign(parts: string[]): string {
    if (!this.key) return '';
    const hmac = createHmac('sha256', this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest('hex');
  }

  encode(msg: JupyterMessage<unknown>): Buffer[] {
    const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => JSON.stringify(x));
    return [Buffer.from(DELIMITER), Buffer.from(this.sign(parts)), ...parts.map((p) => Buffer.from(p)), ...msg.buffers];
  }

  /** Parses frames; returns undefined for a message whose signature does not verify. */
  decode(frames: Buffer[]): JupyterMessage | undefined {
    const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString() === DELIMITER);
    if (at < 0 || frames.length < at + 6) return undefined;
    const [signature, ...rest] = frames.slice(at + 1);
    const parts = rest.slice(0, 4).map((f) => f.toString('utf8'));
    if (this.key) {
      const expected = Buffer.from(this.sign(parts));
      if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) return undefined;
    }
    const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p));
    return { header, parent_header, metadata, content, buffers: rest.slice(4) };
  }
}
