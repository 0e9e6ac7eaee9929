import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { History } from '../../kernel/jupyter/history';
import { compileError, runtimeError } from '../../kernel/jupyter/cell-errors';
import { preambleSource } from '../../kernel/jupyter/preamble';
import { InterruptedError } from '../../kernel/api/errors';

test('history answers tail, range and glob search like IPython', () => {
  const h = new History();
  ['6*7', 'const a = 1', '6*7', 'a + 1'].forEach((code, i) => h.add(i + 1, code));
  h.query({}); // no crash without arguments
  assert.deepEqual(h.query({ hist_access_type: 'tail', n: 2 }), [[1, 3, '6*7'], [1, 4, 'a + 1']]);
  assert.deepEqual(h.query({ hist_access_type: 'range', session: 1, start: 2, stop: 3 }), [[1, 2, 'const a = 1']]);
  assert.deepEqual(h.query({ hist_access_type: 'search', pattern: '6*7' }).map((r) => r[1]), [1, 3]);
  assert.deepEqual(h.query({ hist_access_type: 'search', pattern: '6*7', unique: true }).map((r) => r[1]), [3]);
  assert.deepEqual(h.query({ hist_access_type: 'search', pattern: 'a ?*' }).map((r) => r[1]), [4]);
  assert.deepEqual(h.query({ hist_access_type: 'tail', n: 1, output: true }), [[1, 4, ['a + 1', null]]]);
});

test('runtime errors keep the name, message and the user frames only', () => {
  const e = new TypeError('bad');
  e.stack = ['evalmachine.<anonymous>:2', 'foo()', '^', '', 'TypeError: bad', '    at evalmachine.<anonymous>:2:7', '    at execute (/x/node_modules/tslab/dist/executor.js:140:5)'].join('\n');
  assert.deepEqual(runtimeError(e), { ename: 'TypeError', evalue: 'bad', traceback: ['TypeError: bad', '    at evalmachine.<anonymous>:2:7'] });
  assert.equal(runtimeError(new InterruptedError('training interrupted')).ename, 'InterruptedError');
  assert.equal(runtimeError(new Error('Interrupted asynchronously')).ename, 'InterruptedError');
  assert.deepEqual(runtimeError(42), { ename: 'Uncaught', evalue: '42', traceback: ['Uncaught 42'] });
  const c = compileError(['1:5 - Type A', '2:1 - Type B']);
  assert.equal(c.ename, 'TypeScriptError');
  assert.equal(c.evalue, '1:5 - Type A (and 1 more)');
  assert.equal(c.traceback.length, 2);
});

test('the preamble imports the API by absolute path as `pertset` plus `display` and `tf`', () => {
  const src = preambleSource('/abs/dist/kernel/api');
  assert.equal(
    src,
    'import * as pertset from "/abs/dist/kernel/api";\nimport { display } from "/abs/dist/kernel/api/display";\nimport { tf } from "/abs/dist/kernel/api";',
  );
});
