#!/usr/bin/env node
// Runs every test suite and ends with one line "N passed, N failed[, N skipped]".
//  - node:test files: dist/test/**/*.test.js (compiled from test/**/*.test.ts)
//  - Python unittest suites: test/**/test_*.py, run with Debian's /usr/bin/python3
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filters = process.argv.slice(2);
const keep = (f) => filters.length === 0 || filters.some((s) => f.includes(s));

function walk(dir, pred, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, pred, out);
    else if (pred(e.name)) out.push(p);
  }
  return out.sort();
}

const totals = { passed: 0, failed: 0, skipped: 0 };

// Suites that run a second time with another environment, e.g. the backend tests with the native
// accelerator switched off, so both paths stay correct. Each pass adds to the same totals.
const EXTRA_PASSES = [
  { name: 'backend tests with the native accelerator disabled', env: { PERTSET_NATIVE: '0' }, dirs: ['dist/test/unit/backend/', 'dist/test/unit/native/'] },
];

function runNodeTests(files, env, label) {
  if (!files.length) return;
  console.log(`\n# node:test ${label} (${files.length} files)`);
  const tap = path.join(os.tmpdir(), `pertset-tests-${process.pid}.tap`);
  const r = spawnSync(process.execPath, [
    '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const num = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) || [])[1] || 0);
  totals.passed += num('pass');
  totals.failed += num('fail') + num('cancelled');
  totals.skipped += num('skipped') + num('todo');
  if (r.status !== 0 && num('fail') + num('cancelled') === 0) totals.failed += 1; // crashed runner
}

// --- node:test ---
const jsFiles = walk(path.join(root, 'dist', 'test'), (n) => n.endsWith('.test.js')).filter(keep);
runNodeTests(jsFiles, {}, 'suites');
for (const pass of EXTRA_PASSES) {
  const files = jsFiles.filter((f) => pass.dirs.some((d) => path.relative(root, f).startsWith(d)));
  runNodeTests(files, pass.env, pass.name);
}

// --- Python unittest suites ---
const pyFiles = walk(path.join(root, 'test'), (n) => /^test_.*\.py$/.test(n)).filter(keep);
for (const f of pyFiles) {
  const python = process.env.PERTSET_PYTHON || '/usr/bin/python3';
  console.log(`\n# python suite ${path.relative(root, f)}`);
  const r = spawnSync(python, ['-X', 'frozen_modules=off', '-m', 'unittest', 'discover', '-v', '-s', path.dirname(f), '-t', path.dirname(f), '-p', path.basename(f)], {
    cwd: root, encoding: 'utf8', env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  process.stdout.write(r.stdout || '');
  process.stdout.write(r.stderr || '');
  const out = `${r.stdout}\n${r.stderr}`;
  const ran = Number((out.match(/^Ran (\d+) tests?/m) || [])[1] || 0);
  const fails = Number((out.match(/failures=(\d+)/) || [])[1] || 0) + Number((out.match(/errors=(\d+)/) || [])[1] || 0);
  const skipped = Number((out.match(/skipped=(\d+)/) || [])[1] || 0);
  if (ran === 0 || (r.status !== 0 && fails === 0)) { totals.failed += 1; continue; }
  totals.passed += ran - fails - skipped;
  totals.failed += fails;
  totals.skipped += skipped;
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
