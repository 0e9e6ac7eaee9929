/**
 * The one Jupyter wire codec (kernel/jupyter/wire.ts), used by the kernel and by the
 * extension's client: frames, signatures, replies; checked against a signature computed here
 * independently, as jupyter_client computes it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHmac } from 'crypto';
import { MessageCodec, newMessage, replyTo, WireError } from '../../kernel/jupyter/wire';

const asBuffers = (frames: Array<Buffer | string>): Buffer[] => frames.map((f) => Buffer.from(f));

test('messages are framed after the identities and signed over the four JSON parts', () => {
  const codec = new MessageCodec('secret');
  const msg = newMessage('kernel_info_request', {}, 'session-1');
  msg.buffers = [Buffer.from([1, 2, 3])];
  const frames = asBuffers(codec.encode(msg, [Buffer.from('peer')]));
  assert.equal(frames.length, 1 + 1 + 1 + 4 + 1);
  assert.equal(frames[0].toString(), 'peer');
  assert.equal(frames[1].toString(), '<IDS|MSG>');
  const hmac = createHmac('sha256', 'secret');
  for (const part of frames.slice(3, 7)) hmac.update(part);
  assert.equal(frames[2].toString(), hmac.digest('hex'));
  const { identities, message } = codec.decode(frames);
  assert.deepEqual(identities.map(String), ['peer']);
  assert.deepEqual(message.header, msg.header);
  assert.deepEqual(message.buffers, msg.buffers);
});

test('a reply carries the request header as parent, with its session and user', () => {
  const req = newMessage('execute_request', { code: '1' }, 'session-1', {}, 'alice');
  const reply = replyTo(req, 'execute_reply', { status: 'ok' });
  assert.equal(reply.parent_header.msg_id, req.header.msg_id);
  assert.equal(reply.header.msg_type, 'execute_reply');
  assert.equal(reply.header.session, 'session-1');
  assert.equal(reply.header.username, 'alice');
  assert.notEqual(reply.header.msg_id, req.header.msg_id);
});

test('bad frames are rejected with an error naming the problem', () => {
  const frames = asBuffers(new MessageCodec('secret').encode(newMessage('status', {}, 's')));
  assert.throws(() => new MessageCodec('other key').decode(frames), (e) => e instanceof WireError && /invalid HMAC signature/.test(e.message));
  assert.throws(() => new MessageCodec('secret').decode(frames.slice(1)), /without the <IDS\|MSG> delimiter/);
  assert.throws(() => new MessageCodec('secret').decode(frames.slice(0, 4)), /parts after the signature, expected at least 4/);
  const garbled = [...frames];
  garbled[5] = Buffer.from('{not json');
  assert.throws(() => new MessageCodec('').decode(garbled), /not JSON/);
  assert.throws(() => new MessageCodec('k', 'hmac-md5'), /unsupported signature_scheme "hmac-md5"/);
});

test('without a key messages are unsigned and accepted unsigned', () => {
  const codec = new MessageCodec('');
  const frames = asBuffers(codec.encode(newMessage('status', { execution_state: 'idle' }, 's')));
  assert.equal(frames[1].toString(), '');
  assert.deepEqual(codec.decode(frames).message.content, { execution_state: 'idle' });
});
