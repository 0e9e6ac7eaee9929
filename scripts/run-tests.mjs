#!/usr/bin/env node
// Runs every test suite and ends with one line "N passed, N failed[, N skipped]".
//  - node:test files: dist/test/**/*.test.js (compiled from test/**/*.test.ts)
//  - Python unittest suites: test/**/test_*.py, run with Debian's /usr/bin/python3
// Suites that could not run for lack of something on this machine are listed before that line,
// each with what enables it (test/helpers/env.ts and needs.py record them; under CI=true they
// fail instead).
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
const IS_CI = process.env.CI === 'true';

// Where the require-or-skip helpers record each skip for lack of a dependency (one JSON per line).
const skipLog = path.join(os.tmpdir(), `pertset-test-skips-${process.pid}.jsonl`);
fs.rmSync(skipLog, { force: true });

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
    // A hung test fails after 25 minutes instead of holding the run until CI's limit. The limit also
    // bounds each test file as a whole: the longest, VS Code for the Web (five notebooks executed,
    // then opened with the committed copies), takes 5–6 minutes quiet and over 10 loaded.
    '--test', '--test-concurrency=1', '--test-timeout=1500000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { cwd: root, stdio: 'inherit', env: { ...process.env, PERTSET_TEST_SKIPS: skipLog, ...env } });
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
const python = process.env.PERTSET_PYTHON || '/usr/bin/python3';
for (const f of pyFiles) {
  const suite = path.relative(root, f);
  console.log(`\n# python suite ${suite}`);
  const r = spawnSync(python, ['-X', 'frozen_modules=off', '-m', 'unittest', 'discover', '-v', '-s', path.dirname(f), '-t', path.dirname(f), '-p', path.basename(f)], {
    cwd: root, encoding: 'utf8', env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1', PERTSET_TEST_SKIPS: skipLog, PERTSET_TEST_SUITE: suite },
  });
  if (r.error) {
    // No interpreter at all: the same rule as a missing module (a failure under CI=true).
    const why = `${python} cannot run (${r.error.code ?? r.error.message})`;
    console.log(`${suite}: ${why}`);
    if (IS_CI) totals.failed += 1;
    else {
      totals.skipped += 1;
      fs.appendFileSync(skipLog, JSON.stringify({ file: suite, what: "Debian's Python 3", why, enable: 'apt-get install python3 jupyter-client python3-ipykernel python3-nbclient jupyter-nbconvert python3-jupyter-kernel-test python3-torch (or set PERTSET_PYTHON)' }) + '\n');
    }
    continue;
  }
  process.stdout.write(r.stdout || '');
  process.stdout.write(r.stderr || '');
  const out = `${r.stdout}\n${r.stderr}`;
  const ran = Number((out.match(/^Ran (\d+) tests?/m) || [])[1] || 0);
  const fails = Number((out.match(/failures=(\d+)/) || [])[1] || 0) + Number((out.match(/errors=(\d+)/) || [])[1] || 0);
  const skipped = Number((out.match(/skipped=(\d+)/) || [])[1] || 0);
  if ((ran === 0 && skipped === 0) || (r.status !== 0 && fails === 0)) { totals.failed += 1; continue; }
  totals.passed += Math.max(0, ran - fails - skipped);
  totals.failed += fails;
  totals.skipped += skipped;
}

// --- what could not run here, and what enables it ---
const notRun = new Map(); // "file\0what\0why" -> { file, what, why, enable, tests }
const records = fs.existsSync(skipLog) ? fs.readFileSync(skipLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
for (const s of records) {
  // A skipped describe block counts once here; node:test does not count it as a skipped test.
  if (s.suite) totals.skipped += 1;
  const file = s.file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  const key = [file, s.what, s.why].join('\0');
  const entry = notRun.get(key) ?? { file, what: s.what, why: s.why, enable: s.enable, tests: 0 };
  entry.tests += 1;
  notRun.set(key, entry);
}
fs.rmSync(skipLog, { force: true });
if (notRun.size) {
  console.log(`\nNot run on this machine (${IS_CI ? 'failures' : 'skipped; under CI=true each is a failure'}):`);
  for (const e of notRun.values()) {
    console.log(`  ${e.file} (${e.tests} skipped): needs ${e.what}: ${e.why}`);
    console.log(`      enable: ${e.enable}`);
  }
  const packages = new Set();
  for (const e of notRun.values()) for (const m of e.enable.matchAll(/apt-get install ([^,;(]+)/g)) m[1].trim().split(/\s+/).forEach((p) => packages.add(p));
  if (packages.size) console.log(`  all of them: apt-get install ${[...packages].join(' ')}`);
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
