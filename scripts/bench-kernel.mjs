#!/usr/bin/env node
// Kernel start time and trivial-cell latency: our `pertset` kernel vs stock tslab 1.0.22.
// Both are started from kernelspecs in a temporary JUPYTER_PATH (ours written by
// `pertset kernel install --jupyter-path`, tslab's pointing at node_modules/tslab/bin/tslab with
// absolute paths) and driven over ZeroMQ from Node, as a Jupyter client would.
//   start  = spawn → first kernel_info_reply (what clients wait for before showing "idle")
//   first  = spawn → reply to the first cell (ours includes type-checking the preloaded API)
//   cell   = median execute_request → execute_reply round trip of `1`
// Usage: node scripts/bench-kernel.mjs [--starts N] [--cells N]   (needs `npm run build:ts`)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);
const zmq = require('zeromq');
const { MessageCodec, newMessage } = require(path.join(root, 'dist/kernel/jupyter/wire.js'));

const { values } = parseArgs({ options: { starts: { type: 'string', default: '3' }, cells: { type: 'string', default: '30' } } });
const STARTS = Number(values.starts);
const CELLS = Number(values.cells);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function request(type, content) {
  return newMessage(type, content, 'bench', {}, 'bench');
}

function writeSpecs(jupyterPath) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/pertset.js'), 'kernel', 'install', '--jupyter-path', jupyterPath], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pertset kernel install failed: ${r.stderr}`);
  const tslabBin = path.join(root, 'node_modules/tslab/bin/tslab');
  const dir = path.join(jupyterPath, 'kernels', 'tslab-stock');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify({
    argv: [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (stock tslab)', language: 'typescript', interrupt_mode: 'signal',
  }));
}

async function runOnce(jupyterPath, name, cells, cwd) {
  const spec = JSON.parse(fs.readFileSync(path.join(jupyterPath, 'kernels', name, 'kernel.json'), 'utf8'));
  const [shell, iopub, stdin, control, hb] = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
  const key = randomBytes(16).toString('hex');
  const conn = path.join(cwd, `${name}-${process.pid}.json`);
  fs.writeFileSync(conn, JSON.stringify({ shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb, ip: '127.0.0.1', key, transport: 'tcp', signature_scheme: 'hmac-sha256', kernel_name: name }));
  const argv = spec.argv.map((a) => a.replace('{connection_file}', conn));
  const dealer = new zmq.Dealer({ receiveTimeout: 120000 });
  dealer.connect(`tcp://127.0.0.1:${shell}`);
  const codec = new MessageCodec(key);
  const send = (m) => dealer.send(codec.encode(m));
  const replyTo = async (m) => {
    for (;;) {
      const r = codec.decode(await dealer.receive()).message;
      if (r.parent_header.msg_id === m.header.msg_id) return r;
    }
  };
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd, stdio: 'ignore', env: { ...process.env, JUPYTER_PATH: jupyterPath } });
  try {
    const info = request('kernel_info_request', {});
    await send(info); // queued by ZeroMQ until the kernel binds
    await replyTo(info);
    const start = performance.now() - t0;
    const exec = (code) => request('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false });
    const first = exec('1');
    await send(first);
    const firstReply = await replyTo(first);
    if (firstReply.content.status !== 'ok') throw new Error(`${name}: first cell failed: ${JSON.stringify(firstReply.content)}`);
    const firstCell = performance.now() - t0;
    const times = [];
    for (let i = 0; i < cells; i++) {
      const m = exec('1');
      const t = performance.now();
      await send(m);
      await replyTo(m);
      times.push(performance.now() - t);
    }
    return { start, firstCell, cell: median(times) };
  } finally {
    child.kill('SIGKILL');
    dealer.close();
    fs.rmSync(conn, { force: true });
  }
}

const jupyterPath = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-bench-jupyter-'));
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-bench-nb-')); // a notebook folder without node_modules
try {
  writeSpecs(jupyterPath);
  console.log(`kernel benchmark: ${STARTS} starts, ${CELLS} trivial cells each; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
  const rows = [];
  for (const name of ['pertset', 'tslab-stock']) {
    const runs = [];
    for (let i = 0; i < STARTS; i++) runs.push(await runOnce(jupyterPath, name, CELLS, cwd));
    rows.push({ name, start: median(runs.map((r) => r.start)), firstCell: median(runs.map((r) => r.firstCell)), cell: median(runs.map((r) => r.cell)) });
  }
  console.log(`${'kernel'.padEnd(12)} ${'start (ms)'.padStart(11)} ${'first cell (ms)'.padStart(16)} ${'trivial cell median (ms)'.padStart(25)}`);
  for (const r of rows) console.log(`${r.name.padEnd(12)} ${r.start.toFixed(0).padStart(11)} ${r.firstCell.toFixed(0).padStart(16)} ${r.cell.toFixed(1).padStart(25)}`);
  console.log('goals for pertset: start <= 1200 ms, trivial cell <= 20 ms (median). Figures are noisy on a shared machine.');
} finally {
  fs.rmSync(jupyterPath, { recursive: true, force: true });
  fs.rmSync(cwd, { recursive: true, force: true });
}
