/**
 * Run folders under faults, driving the real CLI (`node bin/pertset.js`) as child processes:
 * - a run's data is part of its identity: resume, radius and eval on a run whose data folder is
 *   gone (or holds other files) stop with an error naming the dataset, its sha256 and where they
 *   looked, and change nothing; the same bytes elsewhere (even gunzipped) are accepted;
 * - one trainer per folder: a second `train` on the same --out is refused naming the first, which
 *   finishes untouched; a stale lock (dead pid) is taken over with a note;
 * - a full disk (a small tmpfs when this machine lets us mount one, else PERTSET_FAULT's injected
 *   ENOSPC), a read-only file system and a permission error name the path, say which checkpoint is
 *   intact, leave no temporaries, record the failure in run.json; eval/radius still print;
 * - "best" exists whenever "latest" records a finished epoch, also after a SIGKILL during the write
 *   of "best" or of "latest" (PERTSET_FAULT=kill-during:NAME kills the process at that point).
 */
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IS_CI, REPO_ROOT, requirePath, sharedDataDir } from '../../helpers/env';
import { MNIST_RAW_SHA256 } from '../../../kernel/api/data/download';
import { tmpDir } from '../train/fixtures';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const empty = tmpDir('faults-nodata');
const baseEnv = { ...process.env, PERTSET_DATA: empty, PERTSET_CACHE: empty, PERTSET_BACKEND: 'wasm' };
const SMALL = ['--config', 'mnist_fc_linf', '--epochs', '1', '--batch-size', '64', '--val-limit', '64'];

function cli(args: string[], extra: Partial<SpawnSyncOptions> & { env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', ...extra, env: { ...baseEnv, ...extra.env } });
  return { code: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A private copy of the shared MNIST files (so the test can remove or alter it). */
function mnistCopy(t: TestContext): string | null {
  const shared = path.join(sharedDataDir(), 'mnist');
  if (!requirePath(t, shared, 'shared MNIST')) return null;
  const dir = path.join(tmpDir('faults-mnist'), 'mnist');
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(shared)) fs.copyFileSync(path.join(shared, f), path.join(dir, f));
  return dir;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const leftovers = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('.tmp-') || f.startsWith('.old-')) : []);

/** Mounts a tmpfs of `size` at a fresh folder; null (with the reason) when this machine does not allow it. */
function mountTmpfs(size: string): { dir: string; remountReadOnly(): boolean; unmount(): void } | { reason: string } {
  const dir = tmpDir('faults-tmpfs');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { reason: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
  return {
    dir,
    remountReadOnly: () => spawnSync('mount', ['-o', 'remount,ro', dir]).status === 0,
    unmount: () => void spawnSync('umount', [dir]),
  };
}

test('a run reopens only on the data it recorded (resume, radius, eval)', async (t) => {
  const data = mnistCopy(t);
  if (!data) return;
  const out = path.join(tmpDir('faults-identity'), 'run');
  // Interrupt a run after its first step so that there is something to resume.
  const args = [BIN, 'train', ...SMALL, '--limit', '640', '--data', data, '--out', out];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: baseEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/step \d+\/10/.test(stdout) && !child.killed) child.kill('SIGINT');
  });
  child.stderr.on('data', (d) => (stderr += d));
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 130, stderr);
  const record = readJson(path.join(out, 'run.json'));
  assert.equal(record.status, 'interrupted');
  const source = record.dataset.train.images.source;
  assert.equal(record.dataset.train.images.name, 'mnist');
  assert.deepEqual(source.sha256, MNIST_RAW_SHA256, 'the run records the sha256 of every MNIST file (decompressed; the official hashes)');

  // The data folder is gone: resuming stops (before: it continued on the embedded Fashion-MNIST subset).
  const hidden = `${data}.hidden`;
  fs.renameSync(data, hidden);
  const resume = cli(args.slice(1).filter((a, i, all) => a !== '--data' && all[i - 1] !== '--data'));
  assert.equal(resume.code, 1, resume.stdout);
  assert.match(resume.stderr, /pertset train: the run's data, MNIST \(sha256 train-images-idx3-ubyte ba891046e650…/);
  assert.match(resume.stderr, new RegExp(`looked in ${data} \\(recorded: no such folder\\)`));
  assert.match(resume.stderr, /pass the folder holding these files with --data DIR/);
  assert.doesNotMatch(resume.stdout + resume.stderr, /embedded/);
  const after = readJson(path.join(out, 'run.json'));
  assert.equal(after.status, 'interrupted', 'run.json untouched');
  assert.deepEqual(after.dataset, record.dataset, "run.json's dataset untouched");
  assert.equal(fs.existsSync(path.join(out, 'run.lock')), false, 'the lock is released after the error');

  // radius and eval: the same error, and no radius.json / eval.json (before: computed on Fashion-MNIST and saved).
  for (const cmd of [['radius', '--run', out, '--limit', '32', '--passes', '1'], ['eval', '--run', out, '--limit', '16', '--steps', '1', '--radius', '3', '--json']]) {
    const r = cli(cmd);
    assert.equal(r.code, 1, `${cmd[0]}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`pertset ${cmd[0]}: the run's data, MNIST \\(sha256 .*read from ${data}\\), was not found`));
  }
  assert.equal(fs.existsSync(path.join(out, 'radius.json')), false);
  assert.equal(fs.existsSync(path.join(out, 'eval.json')), false);

  // Other files under the right names (the embedded Fashion-MNIST subset) are refused by checksum.
  const wrong = cli(['eval', '--run', out, '--limit', '16', '--steps', '1', '--radius', '3', '--data', path.join(REPO_ROOT, 'kernel', 'assets', 'fashion-mnist-subset')]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /train-images-idx3-ubyte\.gz has sha256 [0-9a-f]{12}…, the run recorded ba891046e650…/);

  // The same bytes elsewhere, gunzipped: accepted (the identity is the decompressed content).
  const raw = path.join(tmpDir('faults-raw'), 'mnist');
  fs.mkdirSync(raw);
  for (const f of fs.readdirSync(hidden)) {
    const r = spawnSync('gzip', ['-dc', path.join(hidden, f)], { maxBuffer: 1 << 27 });
    fs.writeFileSync(path.join(raw, f.replace(/\.gz$/, '')), r.stdout);
  }
  const elsewhere = cli(['eval', '--run', out, '--limit', '16', '--steps', '1', '--radius', '3', '--json', '--data', raw]);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.equal(JSON.parse(elsewhere.stdout).dataset.images.source.dir, raw);

  // Back in place: the same command resumes and finishes on MNIST.
  fs.renameSync(hidden, data);
  const resumed = cli(args.slice(1));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming at epoch 1, step \d+\/10/);
  assert.match(resumed.stdout, /step 10\/10/);
  const done = readJson(path.join(out, 'run.json'));
  assert.equal(done.status, 'finished');
  assert.deepEqual(done.dataset.train.images.source.sha256, MNIST_RAW_SHA256);
});

test('a second train on the same folder is refused naming the first; a stale lock is taken over', async () => {
  const out = path.join(tmpDir('faults-lock'), 'run');
  const args = ['train', ...SMALL, '--limit', '1280', '--checkpoint-steps', '1', '--out', out];
  const first = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: baseEnv });
  let stdout = '';
  let stderr = '';
  first.stderr.on('data', (d) => (stderr += d));
  const started = new Promise<void>((resolve) => first.stdout.on('data', (d) => {
    stdout += d;
    if (/step \d+\/20/.test(stdout)) resolve();
  }));
  const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
  await Promise.race([started, firstDone]);
  const lock = readJson(path.join(out, 'run.lock'));
  assert.equal(lock.pid, first.pid);
  assert.match(lock.command, /^pertset train --config mnist_fc_linf/);

  // Before: the second one resumed from the first's checkpoint and both removed each other's temporaries (ENOENT).
  const second = cli(args);
  assert.equal(second.code, 1, second.stdout);
  assert.match(second.stderr, new RegExp(`pertset train: ${out} is in use by \`pertset train --config mnist_fc_linf .*\` \\(pid ${first.pid} on ${os.hostname()}, since `));
  // Reading the run meanwhile (eval recovers interrupted writes) must not disturb the writer either.
  const ev = cli(['eval', '--run', out, '--limit', '8', '--steps', '1', '--radius', '3', '--json']);
  assert.ok(ev.code === 0 || /checkpoint/.test(ev.stderr), ev.stderr);

  assert.equal(await firstDone, 0, stderr);
  assert.match(stdout, /done: 20 steps/);
  assert.equal(readJson(path.join(out, 'checkpoints', 'latest', 'trainer.json')).globalStep, 20);
  assert.deepEqual(leftovers(path.join(out, 'checkpoints')), []);
  assert.equal(fs.existsSync(path.join(out, 'run.lock')), false, 'released at exit');

  // A lock left by a process that is gone (kill -9) is taken over, with a note.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  fs.writeFileSync(path.join(out, 'run.lock'), JSON.stringify({ pid: dead, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'pertset train --old', token: 'x' }));
  const again = cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`note: +took over the run's lock from \`pertset train --old\` \\(pid ${dead}, started 2026-01-01T00:00:00.000Z\\), which is no longer running`));
  assert.match(again.stdout, /already complete/);
  assert.equal(fs.existsSync(path.join(out, 'run.lock')), false);
});

test('disk full, read-only and permission errors name the path, keep the last checkpoint and still print results', async (t) => {
  const mounted = process.getuid?.() === 0 ? mountTmpfs('100m') : { reason: 'not root' };
  // The mnist_fc "latest" checkpoint (weights + Adam state) is ~71 MB: one fits in 100 MB, a second copy does not.
  const fault = 'dir' in mounted ? {} : { PERTSET_FAULT: 'enospc-after:100000000' };
  t.diagnostic('dir' in mounted ? 'full disk: a real 100 MB tmpfs' : `full disk: PERTSET_FAULT=enospc-after:100000000 (${mounted.reason})`);
  if (!('dir' in mounted) && IS_CI && process.getuid?.() === 0) throw new Error(`cannot mount a tmpfs as root under CI: ${mounted.reason}`);
  const root = 'dir' in mounted ? mounted.dir : tmpDir('faults-full');
  try {
    const out = path.join(root, 'run');
    const train = cli(['train', ...SMALL, '--limit', '640', '--checkpoint-steps', '2', '--out', out], { env: fault });
    // Before: "pertset: ENOSPC: no space left on device, write", a .tmp-latest-* folder filling the disk, run.json "running".
    assert.equal(train.code, 1, train.stdout);
    assert.match(train.stderr, new RegExp(`pertset train: cannot write ${out}/checkpoints/latest \\(writing [a-z]+\\.(bin|json)\\): no space left on device \\(ENOSPC\\); the partial write was removed and the checkpoint at step 2 \\(${out}/checkpoints/latest\\) is intact`));
    assert.deepEqual(leftovers(path.join(out, 'checkpoints')), [], 'no temporary left');
    assert.equal(readJson(path.join(out, 'checkpoints', 'latest', 'trainer.json')).globalStep, 2);
    const record = readJson(path.join(out, 'run.json'));
    assert.equal(record.status, 'failed');
    assert.deepEqual(record.error, { code: 'ENOSPC', path: `${out}/checkpoints/latest` });
    assert.match(record.message, /checkpoint at step 2 .* is intact/);
    assert.equal(fs.existsSync(path.join(out, 'run.lock')), false);

    // Read-only: eval prints its result, then fails naming eval.json (before: nothing printed, "pertset: EROFS ...").
    const readOnly = 'dir' in mounted && mounted.remountReadOnly() ? {} : { PERTSET_FAULT: 'erofs-after:0' };
    t.diagnostic(Object.keys(readOnly).length ? 'read-only: PERTSET_FAULT=erofs-after:0' : 'read-only: the tmpfs remounted read-only');
    const ev = cli(['eval', '--run', out, '--limit', '16', '--steps', '1', '--radius', '3', '--json'], { env: readOnly });
    assert.equal(ev.code, 1);
    assert.equal(typeof JSON.parse(ev.stdout).pgdAE, 'number', 'the result is printed');
    assert.match(ev.stderr, new RegExp(`pertset eval: cannot write ${out}/eval.json: read-only file system \\(EROFS\\); the result was computed but not saved`));
    const human = cli(['radius', '--run', out, '--limit', '16', '--passes', '1'], { env: readOnly });
    assert.equal(human.code, 1);
    assert.match(human.stdout, /radius \(max rounded up\): \d+\n/);
    assert.doesNotMatch(human.stdout, /saved to/);
    assert.match(human.stderr, /radius\.json: read-only file system \(EROFS\)/);
    assert.equal(fs.existsSync(path.join(out, 'eval.json')), false);
    if (!Object.keys(readOnly).length) {
      const resume = cli(['train', ...SMALL, '--limit', '640', '--checkpoint-steps', '2', '--out', out]);
      assert.equal(resume.code, 1);
      assert.match(resume.stderr, new RegExp(`pertset train: cannot write ${out}/run.lock \\(the run lock\\): read-only file system \\(EROFS\\)`));
    }
  } finally {
    if ('dir' in mounted) mounted.unmount();
  }

  // Permission denied: a folder another user owns (as root: run the command as nobody; else chmod).
  const out = path.join(tmpDir('faults-perm'), 'run');
  const ok = cli(['train', ...SMALL, '--limit', '128', '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  // nobody must be able to reach the checkout (a clone inside a 0700 folder is not); root
  // otherwise gets the documented fault injection, since chmod does not stop root writing.
  const isRoot = process.getuid?.() === 0;
  const reachable = (p: string): boolean => p === path.dirname(p) || ((fs.statSync(p).mode & 0o001) !== 0 && reachable(path.dirname(p)));
  const asNobody = isRoot && reachable(REPO_ROOT);
  t.diagnostic(`permission denied: ${asNobody ? 'run as nobody' : isRoot ? 'PERTSET_FAULT=eacces-after:0 (the checkout is not reachable by nobody)' : 'chmod 555'}`);
  for (const d of [path.dirname(out), out]) fs.chmodSync(d, 0o755);
  spawnSync('chmod', ['-R', 'a+rX', path.dirname(out)]);
  const opts = asNobody ? { uid: 65534, gid: 65534, env: { HOME: empty } } : isRoot ? { env: { PERTSET_FAULT: 'eacces-after:0' } } : {};
  if (!isRoot) fs.chmodSync(out, 0o555);
  const denied = cli(['eval', '--run', out, '--limit', '8', '--steps', '1', '--radius', '3'], opts);
  fs.chmodSync(out, 0o755);
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(denied.stdout, /encoder AE \d/);
  assert.match(denied.stderr, new RegExp(`pertset eval: cannot write ${out}/eval.json: permission denied \\(EACCES\\); the result was computed but not saved`));
  const train = cli(['train', ...SMALL, '--limit', '128', '--out', out], opts);
  if (asNobody) {
    assert.equal(train.code, 1);
    assert.match(train.stderr, new RegExp(`cannot write ${out}/run.lock \\(the run lock\\): permission denied \\(EACCES\\)`));
  }
});

test('"best" exists whenever "latest" records a finished epoch, also after a kill during either write', () => {
  for (const victim of ['best', 'latest']) {
    const out = path.join(tmpDir(`faults-kill-${victim}`), 'run');
    const args = ['train', ...SMALL, '--limit', '256', '--out', out];
    const killed = cli(args, { env: { PERTSET_FAULT: `kill-during:${victim}` } });
    assert.equal(killed.signal, 'SIGKILL', `${victim}: ${killed.stderr}`);
    const ckpt = path.join(out, 'checkpoints');
    const latest = path.join(ckpt, 'latest', 'trainer.json');
    const latestEpoch = fs.existsSync(latest) ? readJson(latest).epoch : 0;
    if (latestEpoch >= 1) assert.ok(fs.existsSync(path.join(ckpt, 'best', 'trainer.json')), `${victim}: latest records a finished epoch, so best exists`);
    if (victim === 'latest') assert.ok(fs.existsSync(path.join(ckpt, 'best', 'model.json')), 'best was written before latest');
    assert.equal(readJson(path.join(out, 'run.json')).status, 'running', 'a SIGKILL leaves the status it had');
    // Rerunning the same command recovers: the lock is stale, the epoch is finished again, both exist.
    const rerun = cli(args);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /took over the run's lock/);
    assert.equal(readJson(latest).epoch, 1);
    assert.equal(readJson(path.join(ckpt, 'best', 'trainer.json')).epoch, 1);
    assert.deepEqual(leftovers(ckpt), []);
    const best = cli(['eval', '--run', out, '--checkpoint', 'best', '--limit', '8', '--steps', '1', '--radius', '3', '--json']);
    assert.equal(best.code, 0, best.stderr);
    // A "best" missing from a run with a finished epoch (deleted, or an older run) is rebuilt on resume.
    if (victim === 'latest') {
      fs.rmSync(path.join(ckpt, 'best'), { recursive: true });
      assert.equal(cli(args).code, 0);
      const rebuilt = readJson(path.join(ckpt, 'best', 'trainer.json'));
      assert.equal(rebuilt.epoch, 1);
      assert.equal(rebuilt.optimizer, null);
      assert.ok(fs.readFileSync(path.join(ckpt, 'best', 'weights.bin')).equals(fs.readFileSync(path.join(ckpt, 'latest', 'weights.bin'))));
    }
  }
});
