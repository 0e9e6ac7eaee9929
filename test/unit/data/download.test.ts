import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { downloadMnist, DownloadError, mnistMirrors, MNIST_MIRRORS } from '../../../kernel/api/data/download';
import { loadDataset } from '../../../kernel/api/data/load';
import { DEPENDENCIES, need, REPO_ROOT, sharedDataDir } from '../../helpers/env';

// A local server standing in for the public mirrors (tests never touch the network):
//   /good/<file>     the shared MNIST files
//   /corrupt/<file>  the same with one decompressed byte changed (valid gzip, wrong sha256)
//   /missing/<file>  404
const MNIST = path.join(sharedDataDir(), 'mnist');
const haveMnist = DEPENDENCIES.sharedMnist.missing() === undefined;
let server: http.Server;
let base = '';
const requests: string[] = [];
const corrupted = new Map<string, Buffer>();

function corrupt(file: string): Buffer {
  let c = corrupted.get(file);
  if (!c) {
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(MNIST, file)));
    raw[raw.length - 1] ^= 0xff;
    c = zlib.gzipSync(raw, { level: 1 });
    corrupted.set(file, c);
  }
  return c;
}

before(async () => {
  if (!haveMnist) return;
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, kind, file] = (req.url ?? '').split('/');
    const local = path.join(MNIST, path.basename(file ?? ''));
    if (kind === 'missing' || !fs.existsSync(local)) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = kind === 'corrupt' ? corrupt(path.basename(file)) : fs.readFileSync(local);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server?.close();
});


const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-dl-'));

test('mirror list: option, then PERTSET_MNIST_MIRROR (comma-separated), then the public defaults', () => {
  assert.deepEqual(mnistMirrors({ env: {} }), [...MNIST_MIRRORS]);
  assert.ok(MNIST_MIRRORS[0].includes('ossci-datasets') && MNIST_MIRRORS[1].includes('cvdf-datasets'));
  assert.deepEqual(mnistMirrors({ env: { PERTSET_MNIST_MIRROR: 'http://a/x, http://b/y/' } }), ['http://a/x/', 'http://b/y/']);
  assert.deepEqual(mnistMirrors({ mirrors: ['http://c'], env: { PERTSET_MNIST_MIRROR: 'http://a' } }), ['http://c/']);
});

test('a 404 mirror is skipped, the next one serves, sha256 is verified and the cache then loads', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const cache = tmp();
  const lines: string[] = [];
  let progressEvents = 0;
  requests.length = 0;
  const files = await downloadMnist({
    cache,
    mirrors: [`${base}/missing/`, `${base}/good`],
    callbacks: {
      onLog: (l) => lines.push(l),
      onProgress: () => progressEvents++,
    },
  });
  assert.deepEqual(files.map((f) => f.from), Array(4).fill(`${base}/good/`));
  assert.ok(requests.includes('/missing/train-images-idx3-ubyte.gz') && requests.includes('/good/train-images-idx3-ubyte.gz'));
  assert.ok(lines.some((l) => l.includes('HTTP 404')), lines.join('\n'));
  assert.ok(progressEvents >= 4);
  assert.deepEqual(fs.readdirSync(path.join(cache, 'mnist')).sort(), [
    't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
  ]);
  const ds = loadDataset('mnist', { env: { PERTSET_CACHE: cache }, split: 'test' });
  assert.equal(ds.source.origin, 'cache');
  assert.equal(ds.count, 10000);
  // A second run finds verified copies and fetches nothing.
  requests.length = 0;
  const again = await downloadMnist({ cache, mirrors: [`${base}/good`] });
  assert.deepEqual(again.map((f) => f.from), Array(4).fill('cached'));
  assert.equal(requests.length, 0);
});

test('a corrupted file is a checksum error naming both hashes, and nothing is left in the cache', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const cache = tmp();
  await assert.rejects(downloadMnist({ cache, mirrors: [`${base}/corrupt`] }), (e: unknown) => {
    assert.ok(e instanceof DownloadError);
    assert.match(e.message, /could not download train-images-idx3-ubyte from any mirror/);
    assert.match(e.message, /sha256 mismatch of the decompressed bytes: expected ba891046e6505d7a\w+, got [0-9a-f]{64}/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(path.join(cache, 'mnist')), []);
});

test('every mirror failing gives one clear error listing each attempt', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  await assert.rejects(downloadMnist({ cache: tmp(), mirrors: [`${base}/missing`, `${base}/corrupt`] }), (e: unknown) => {
    assert.ok(e instanceof DownloadError);
    assert.ok(e.message.includes(`${base}/missing/train-images-idx3-ubyte.gz: HTTP 404`), e.message);
    assert.ok(e.message.includes(`${base}/corrupt/train-images-idx3-ubyte.gz: sha256 mismatch`), e.message);
    return true;
  });
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('CLI: pertset data download mnist with PERTSET_MNIST_MIRROR and --cache, then data info uses the cache', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const cache = tmp();
  const r = await runCli(['data', 'download', 'mnist', '--cache', cache], { PERTSET_MNIST_MIRROR: `${base}/missing,${base}/good` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /train-images-idx3-ubyte: .*train-images-idx3-ubyte\.gz \(sha256 ba891046/);
  assert.match(r.stderr, /HTTP 404/);
  const info = await runCli(['data', 'info', '--json'], { PERTSET_CACHE: cache, PERTSET_DATA: '' });
  assert.equal(info.code, 0, info.stderr);
  const report = JSON.parse(info.stdout);
  assert.equal(report.origin, 'cache');
  assert.equal(report.name, 'mnist');
  assert.deepEqual([report.splits.train.count, report.splits.val.count, report.splits.test.count], [59000, 1000, 10000]);
  assert.deepEqual(report.splits.test.imageShape, [28, 28, 1]);
});

test('CLI: download from a corrupt mirror exits 1 with the checksum error; bad arguments exit 1', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await runCli(['data', 'download', 'mnist', '--cache', tmp(), '--mirror', `${base}/corrupt`], {});
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pertset data: could not download train-images-idx3-ubyte from any mirror/);
  assert.match(r.stderr, /sha256 mismatch/);
  const bad = await runCli(['data', 'download', 'svhn'], {});
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /expected the dataset name "mnist", got "svhn"/);
});

test('CLI: data info names the embedded fallback, an explicit folder, and a missing folder', async () => {
  const empty = tmp();
  const fallback = await runCli(['data', 'info'], { PERTSET_CACHE: empty, PERTSET_DATA: '' });
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.match(fallback.stdout, /dataset: embedded \(asked for mnist\)/);
  assert.match(fallback.stdout, /source: +embedded Fashion-MNIST subset/);
  assert.match(fallback.stdout, /train +3500 images 28x28x1/);
  assert.match(fallback.stdout, /test +1000 images 28x28x1/);
  const missing = await runCli(['data', 'info', '--data', path.join(empty, 'nope')], {});
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /MNIST not found in .*nope/);
});

test('CLI: data info --data DIR reports an explicit folder', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const explicit = await runCli(['data', 'info', '--data', sharedDataDir(), '--json'], {});
  assert.equal(explicit.code, 0, explicit.stderr);
  assert.equal(JSON.parse(explicit.stdout).origin, 'explicit');
});
