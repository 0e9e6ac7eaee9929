import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { expandShorthandProperties } from '../../kernel/jupyter/cell-source';

test('shorthand properties are expanded so tslab can rewrite variables from earlier cells', () => {
  assert.equal(expandShorthandProperties('console.log({ foo })'), 'console.log({ foo: foo })');
  assert.equal(expandShorthandProperties('const o = { a, b: 2, ...c, d() { return 1; } };'), 'const o = { a: a, b: 2, ...c, d() { return 1; } };');
  assert.equal(expandShorthandProperties('f({ x: { y } })'), 'f({ x: { y: y } })');
  assert.equal(expandShorthandProperties('({ a = 1 } = o);'), '({ a: a = 1 } = o);');
  // Binding patterns and strings are not object literals: unchanged.
  assert.equal(expandShorthandProperties('const { a, b } = o; const s = "{ a }";'), 'const { a, b } = o; const s = "{ a }";');
  assert.equal(expandShorthandProperties('const n = 1\n+ 2'), 'const n = 1\n+ 2');
});

test('a cell with a syntax error is returned unchanged apart from shorthands it can still see', () => {
  assert.equal(expandShorthandProperties('const = ;'), 'const = ;');
});
