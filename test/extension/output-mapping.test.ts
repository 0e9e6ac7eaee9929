/** Jupyter iopub messages → cell outputs (kernel/jupyter/client/output-mapping.ts), message by message. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  appendStreamText, CellOutputBuilder, ERROR_MIME, mimeValueToBytes, sortMimeTypes, STDERR_MIME, STDOUT_MIME, visibleStreamText,
} from '../../kernel/jupyter/client';
import { newMessage } from '../../kernel/jupyter/wire';

const msg = (type: string, content: Record<string, unknown>) => newMessage(type, content, 'test-session');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('output mapping', () => {
  it('grows one output per consecutive stream and starts a new one when the stream changes', () => {
    const b = new CellOutputBuilder();
    assert.equal(b.apply(msg('stream', { name: 'stdout', text: 'a\n' }))[0].kind, 'append');
    const grown = b.apply(msg('stream', { name: 'stdout', text: 'b\n' }));
    assert.equal(grown[0].kind, 'replace');
    b.apply(msg('stream', { name: 'stderr', text: 'oops\n' }));
    assert.equal(b.outputs.length, 2);
    assert.equal(b.outputs[0].items[0].mime, STDOUT_MIME);
    assert.equal(text(b.outputs[0].items[0].data), 'a\nb\n');
    assert.equal(b.outputs[1].items[0].mime, STDERR_MIME);
    assert.equal(b.outputs[0].metadata.outputType, 'stream');
  });

  it('lets a carriage return overwrite the current line, as progress bars need', () => {
    let t = appendStreamText('', 'epoch 1 [##  ] 50%\r');
    assert.equal(visibleStreamText(t), 'epoch 1 [##  ] 50%');
    t = appendStreamText(t, 'epoch 1 [####] 100%\n');
    assert.equal(t, 'epoch 1 [####] 100%\n');
    assert.equal(appendStreamText('x\r\ny', '\rz'), 'x\nz');
  });

  it('orders MIME items richest first and converts values to bytes', () => {
    assert.deepEqual(sortMimeTypes(['text/plain', 'text/html', 'application/vnd.pertset.image-grid+json', 'image/png']), [
      'application/vnd.pertset.image-grid+json', 'text/html', 'image/png', 'text/plain',
    ]);
    assert.deepEqual(Array.from(mimeValueToBytes('image/png', Buffer.from([1, 2, 3]).toString('base64'))), [1, 2, 3]);
    assert.equal(text(mimeValueToBytes('application/vnd.plotly.v1+json', { data: [] })), '{"data":[]}');
    assert.equal(text(mimeValueToBytes('application/vnd.pertset.image-grid+json', '{"version":1}')), '{"version":1}');
    assert.equal(text(mimeValueToBytes('text/plain', ['a\n', 'b'])), 'a\nb');
  });

  it('maps display_data and execute_result, and updates a display in place by display_id', () => {
    const b = new CellOutputBuilder();
    b.apply(msg('display_data', { data: { 'text/plain': 'one', 'text/html': '<b>one</b>' }, metadata: {}, transient: { display_id: 'd1' } }));
    b.apply(msg('execute_result', { data: { 'text/plain': '42' }, metadata: {}, execution_count: 3 }));
    const first = b.outputs[0].id;
    const changes = b.apply(msg('update_display_data', { data: { 'text/plain': 'two' }, metadata: {}, transient: { display_id: 'd1' } }));
    assert.deepEqual(changes.map((c) => c.kind), ['replace']);
    assert.equal(b.outputs.length, 2);
    assert.equal(b.outputs[0].id, first);
    assert.equal(text(b.outputs[0].items[0].data), 'two');
    assert.deepEqual(b.outputs[1].metadata, { outputType: 'execute_result', metadata: {}, executionCount: 3 });
    const elsewhere = b.apply(msg('update_display_data', { data: { 'text/plain': 'x' }, metadata: {}, transient: { display_id: 'other' } }));
    assert.equal(elsewhere[0].kind, 'update-elsewhere');
  });

  it('maps error messages to VS Code error items and honours clear_output(wait)', () => {
    const b = new CellOutputBuilder();
    b.apply(msg('stream', { name: 'stdout', text: 'before\n' }));
    assert.deepEqual(b.apply(msg('clear_output', { wait: true })), []);
    assert.equal(b.outputs.length, 1);
    const changes = b.apply(msg('error', { ename: 'RangeError', evalue: 'too big', traceback: ['RangeError: too big', '    at cell:1'] }));
    assert.deepEqual(changes.map((c) => c.kind), ['clear', 'append']);
    assert.equal(b.outputs.length, 1);
    assert.equal(b.outputs[0].items[0].mime, ERROR_MIME);
    assert.deepEqual(JSON.parse(text(b.outputs[0].items[0].data)), { name: 'RangeError', message: 'too big', stack: 'RangeError: too big\n    at cell:1' });
    assert.deepEqual(b.apply(msg('clear_output', { wait: false })), [{ kind: 'clear' }]);
    assert.equal(b.outputs.length, 0);
    assert.deepEqual(b.apply(msg('status', { execution_state: 'idle' })), []);
  });
});
