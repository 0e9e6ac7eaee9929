import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/env';

function info(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'info', ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000,
  });
}

test('pertset info --json describes the wasm backend, its fixes and the native accelerator', () => {
  const r = info(['--json', '--backend', 'wasm']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.backend, 'wasm');
  assert.equal(out.threads, 1);
  assert.equal(out.wasmKernels.length, 5);
  assert.ok(out.wasmKernels.some((n: string) => n.startsWith('MaxPoolGrad:')), 'the MaxPoolGrad fix is listed');
  assert.equal(typeof out.native.active, 'boolean');
  assert.equal(typeof out.native.reason, 'string');
  assert.ok(out.notes.some((n: string) => n.startsWith('native accelerator:')));
  assert.match(out.tfjs, /^4\.22\.0$/);
});

test('pertset info honours PERTSET_WASM_FIXES=0 and PERTSET_BACKEND=cpu', () => {
  const noFixes = JSON.parse(info(['--json', '--backend', 'wasm'], { PERTSET_WASM_FIXES: '0', PERTSET_NATIVE: '0' }).stdout);
  assert.deepEqual(noFixes.wasmKernels, []);
  assert.equal(noFixes.accelerator, 'none');
  const cpu = info([], { PERTSET_BACKEND: 'cpu' });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /^backend:\s+cpu \(requested: cpu\)/m);
});

test('pertset info names a bad backend', () => {
  const r = info(['--backend', 'gpu']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown backend "gpu"/);
});
