/**
 * IOPub coalescing (kernel/jupyter/iopub.ts): stream text and display updates are batched, no
 * text is lost, and every other message goes out after what was written before it.
 * (test_kernel_output_volume.py checks the same end to end through jupyter_client.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { newMessage } from '../../kernel/jupyter/wire';
import { IopubCoalescer } from '../../kernel/jupyter/iopub';

function recorder(options = {}) {
  const sent: Array<{ parent: string; type: string; content: Record<string, unknown> }> = [];
  const out = new IopubCoalescer((parent, type, content) => sent.push({ parent: parent.header.msg_id, type, content: content as Record<string, unknown> }), options);
  return { out, sent };
}

const cell = newMessage('execute_request', { code: '' }, 's');
const nextCell = newMessage('execute_request', { code: '' }, 's');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('output after a quiet interval goes out at once; what follows within the interval is merged', async () => {
  const { out, sent } = recorder({ intervalMs: 20 });
  for (let i = 0; i < 1000; i++) out.stream(cell, 'stdout', `line ${i}\n`);
  assert.deepEqual(sent.map((m) => m.content.text), ['line 0\n'], 'the first line is not held back (a busy loop may follow)');
  await sleep(60);
  assert.equal(sent.length, 2);
  assert.equal(sent[1].content.text, Array.from({ length: 999 }, (_, i) => `line ${i + 1}\n`).join(''));
  await sleep(30);
  out.stream(cell, 'stdout', 'after a pause\n');
  assert.equal(sent.length, 3);
});

test("a cell's first output goes out at once even right after the previous cell's", () => {
  // The next cell may start a synchronous busy loop right after printing: no timer could send it.
  const { out, sent } = recorder({ intervalMs: 10_000 });
  out.stream(cell, 'stdout', '40\n');
  out.stream(nextCell, 'stdout', 'spinning\n');
  assert.deepEqual(sent.map((m) => [m.parent, m.content.text]), [[cell.header.msg_id, '40\n'], [nextCell.header.msg_id, 'spinning\n']]);
  out.stream(nextCell, 'stdout', 'held\n');
  assert.equal(sent.length, 2, 'later output of the same cell within the interval waits');
  out.flush();
});

test('a full buffer is sent at once, so a synchronous loop streams', () => {
  const { out, sent } = recorder({ maxChars: 100 });
  for (let i = 0; i < 101; i++) out.stream(cell, 'stdout', '0123456789');
  assert.equal(sent.length, 11);
  assert.ok(sent.slice(1).every((m) => m.content.text === '0123456789'.repeat(10)));
  out.flush();
});

test('stdout, stderr and displays keep the order they were written in', () => {
  const { out, sent } = recorder();
  out.stream(cell, 'stdout', 'first\n');
  out.stream(cell, 'stdout', 'a\n');
  out.stream(cell, 'stdout', 'b\n');
  out.stream(cell, 'stderr', 'oops\n');
  out.stream(cell, 'stdout', 'c\n');
  out.publish(cell, 'display_data', { data: { 'text/plain': 'shown' } });
  out.stream(cell, 'stdout', 'd\n');
  out.publish(cell, 'status', { execution_state: 'idle' });
  assert.deepEqual(
    sent.map((m) => [m.type, m.content.text ?? m.content.data ?? m.content.execution_state]),
    [['stream', 'first\n'], ['stream', 'a\nb\n'], ['stream', 'oops\n'], ['stream', 'c\n'], ['display_data', { 'text/plain': 'shown' }], ['stream', 'd\n'], ['status', 'idle']],
  );
});

test('output of different cells is never merged into one message', () => {
  const { out, sent } = recorder();
  out.stream(cell, 'stdout', 'first\n');
  out.stream(cell, 'stdout', 'late output of cell 1\n');
  out.stream(nextCell, 'stdout', 'cell 2\n');
  out.flush();
  assert.deepEqual(sent.map((m) => m.parent), [cell.header.msg_id, cell.header.msg_id, nextCell.header.msg_id]);
});

test('display updates keep only the latest state per display id, which always goes out', async () => {
  const { out, sent } = recorder({ intervalMs: 20 });
  const update = (id: string, v: number) => out.updateDisplay(cell, { data: { 'text/plain': `${id}=${v}` }, metadata: {}, transient: { display_id: id } });
  for (let i = 1; i <= 5000; i++) {
    update('a', i);
    if (i % 1000 === 0) update('b', i);
  }
  await sleep(60);
  assert.deepEqual(sent.map((m) => (m.content.data as Record<string, string>)['text/plain']), ['a=1', 'a=5000', 'b=5000']);
  // An update without an id replaces nothing: it is published as is.
  out.updateDisplay(cell, { data: { 'text/plain': 'no id' }, transient: {} });
  assert.equal(sent.length, 4);
});
