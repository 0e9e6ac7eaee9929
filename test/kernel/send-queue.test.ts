/**
 * zeromq 6 throws EBUSY when a send is attempted while a deferred one is pending; the kernel
 * must queue such messages in order instead of crashing.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { queueSend, type Socket } from '../../kernel/jupyter/send-queue';

/** A socket that defers every third send (like zeromq after a burst) and is busy until then. */
function burstySocket() {
  const sent: string[] = [];
  let busy: Promise<void> | null = null;
  let n = 0;
  const sock: Socket = {
    send(frames) {
      if (busy) throw Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' });
      n += 1;
      if (n % 3 === 0) {
        busy = new Promise<void>((resolve) => setTimeout(() => {
          sent.push(String(frames[0]));
          busy = null;
          resolve();
        }, 2));
        return busy;
      }
      sent.push(String(frames[0]));
      return Promise.resolve();
    },
  };
  return { sock, sent };
}

test('sends that hit EBUSY are queued and delivered in order', async () => {
  const { sock, sent } = burstySocket();
  const want = Array.from({ length: 20 }, (_, i) => `m${i}`);
  for (const m of want) queueSend(sock, [m]); // must not throw
  assert.ok(sent.length < want.length, 'some sends were deferred (the test exercises the queue)');
  for (let i = 0; i < 100 && sent.length < want.length; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(sent, want);
});

test('with a free socket a message is handed over synchronously', () => {
  const sent: string[] = [];
  const sock: Socket = { send: (f) => { sent.push(String(f[0])); return Promise.resolve(); } };
  queueSend(sock, ['now']);
  assert.deepEqual(sent, ['now']);
});
