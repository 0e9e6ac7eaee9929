/**
 * The launcher as the VS Code extension starts it: `node dist/kernel/jupyter/launcher.js
 * --config-path <file>`, spoken to over ZeroMQ from Node (no Python, no jupyter_client).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zmq from 'zeromq';
import { REPO_ROOT } from '../helpers/env';
import { MessageCodec, newMessage, type JupyterMessage } from '../../kernel/jupyter/wire';

const LAUNCHER = path.join(REPO_ROOT, 'dist', 'kernel', 'jupyter', 'launcher.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function request(type: string, content: object): JupyterMessage<object> {
  return newMessage(type, content, 'test', {}, 'test');
}

test('the launcher serves kernel_info, execute and shutdown over raw ZeroMQ', async () => {
  const ports = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  const key = randomBytes(16).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-launcher-'));
  const conn = path.join(dir, 'kernel.json');
  const [shell, iopub, stdin, control, hb] = ports;
  fs.writeFileSync(conn, JSON.stringify({ shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb, ip: '127.0.0.1', key, transport: 'tcp', signature_scheme: 'hmac-sha256', kernel_name: 'pertset' }));
  // cwd without node_modules: the preamble must still find the API by absolute path.
  const child = spawn(process.execPath, [LAUNCHER, '--config-path', conn], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const dealer = new zmq.Dealer({ receiveTimeout: 60000 });
  const ctl = new zmq.Dealer({ receiveTimeout: 60000 });
  const sub = new zmq.Subscriber({ receiveTimeout: 60000 });
  try {
    dealer.connect(`tcp://127.0.0.1:${shell}`);
    ctl.connect(`tcp://127.0.0.1:${control}`);
    sub.connect(`tcp://127.0.0.1:${iopub}`);
    sub.subscribe();
    const codec = new MessageCodec(key);
    const send = async (sock: zmq.Dealer, m: JupyterMessage<object>) => {
      await sock.send(codec.encode(m));
    };
    const receive = async (sock: zmq.Dealer | zmq.Subscriber) => codec.decode((await sock.receive()) as Buffer[]).message;

    const info = request('kernel_info_request', {});
    await send(dealer, info);
    const infoReply = await receive(dealer);
    assert.equal(infoReply.header.msg_type, 'kernel_info_reply');
    assert.equal(infoReply.parent_header.msg_id, info.header.msg_id);
    assert.equal((infoReply.content as { status: string }).status, 'ok');

    const exec = request('execute_request', { code: 'pertset.display.lineChart({loss: [1, 2]}).figure.data.length * 21', silent: false, store_history: true, user_expressions: {}, allow_stdin: false });
    await send(dealer, exec);
    const reply = await receive(dealer);
    assert.deepEqual(reply.content, { status: 'ok', execution_count: 1, payload: [], user_expressions: {} }, stderr);
    const iopubTypes: string[] = [];
    let result: unknown;
    for (;;) {
      const m = await receive(sub);
      if (m.parent_header.msg_id !== exec.header.msg_id) continue;
      iopubTypes.push(m.header.msg_type);
      if (m.header.msg_type === 'execute_result') result = (m.content as { data: Record<string, unknown> }).data['text/plain'];
      if (m.header.msg_type === 'status' && (m.content as { execution_state: string }).execution_state === 'idle') break;
    }
    // The subscription may miss the first messages; what arrives must be in protocol order.
    assert.deepEqual(iopubTypes.slice(-2), ['execute_result', 'status']);
    assert.equal(result, '21');

    const shutdown = request('shutdown_request', { restart: false });
    await send(ctl, shutdown);
    const bye = await receive(ctl);
    assert.equal(bye.header.msg_type, 'shutdown_reply');
    assert.equal(await exited, 0);
  } finally {
    child.kill();
    dealer.close();
    ctl.close();
    sub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the launcher without --config-path prints its usage and exits with 2', () => {
  const r = spawnSync(process.execPath, [LAUNCHER], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: node launcher\.js --config-path <connection_file>/);
});
