import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

function runChild(env: Record<string, string>): { threads: number; infoThreads: number; err: number } {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'threads-child.js')], {
    env: { ...process.env, PERTSET_NATIVE: '0', ...env }, encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  assert.ok(line, `no JSON line in child output: ${r.stdout}`);
  return JSON.parse(line);
}

test('PERTSET_WASM_THREADS=2 gives 2 XNNPACK threads and correct matmuls', () => {
  const out = runChild({ PERTSET_WASM_THREADS: '2' });
  assert.equal(out.threads, 2);
  assert.equal(out.infoThreads, 2);
  assert.ok(out.err < 1e-5, `relative error vs cpu ${out.err}`);
});

test('default wasm stays single-threaded', () => {
  const out = runChild({ PERTSET_WASM_THREADS: '' });
  assert.equal(out.threads, 1);
  assert.equal(out.infoThreads, 1);
  assert.ok(out.err < 1e-5, `relative error vs cpu ${out.err}`);
});
