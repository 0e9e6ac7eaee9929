/**
 * The extension's Jupyter client (kernel/jupyter/client) and output mapping driven from Node
 * against the real kernel process over ZeroMQ: cells run in order with shared state, output
 * streams while a cell runs, display/update/error/stream messages become outputs, interrupt
 * keeps the state, restart clears it, and a dying kernel is reported with its exit status.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelDiedError, KernelSession } from '../../kernel/jupyter/client';
import type { JupyterMessage } from '../../kernel/jupyter/client';
import { CellOutputBuilder, ERROR_MIME, STDERR_MIME, STDOUT_MIME } from '../../kernel/jupyter/client';
import { kernelArgv } from './kernel-under-test';
import { MIME } from '../../kernel/contract/mime';
import { validateImageGridPayload } from '../../kernel/contract/payloads';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-kc-'));

async function run(session: KernelSession, code: string, onIopub?: (m: JupyterMessage) => void) {
  const builder = new CellOutputBuilder();
  const types: string[] = [];
  const result = await session.execute(code, {
    onIopub: (m) => {
      types.push(m.header.msg_type);
      builder.apply(m);
      onIopub?.(m);
    },
  });
  const texts = builder.outputs.flatMap((o) => o.items.map((i) => ({ mime: i.mime, text: Buffer.from(i.data).toString('utf8') })));
  return { result, builder, types, texts, stdout: texts.filter((t) => t.mime === STDOUT_MIME).map((t) => t.text).join('') };
}

/** Everything a failed cell reported, whichever way the kernel reports errors. */
function errorText(texts: Array<{ mime: string; text: string }>): string {
  return texts.filter((t) => t.mime === ERROR_MIME || t.mime === STDERR_MIME).map((t) => t.text).join('\n');
}

describe('kernel client against the real kernel (our launcher)', () => {
  let session: KernelSession;

  before(async () => {
    session = await KernelSession.start({ argv: kernelArgv(), cwd: workDir, startTimeoutMs: 60_000 });
  });

  after(async () => {
    await session?.shutdown();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('starts, answers kernel_info and the heartbeat', async () => {
    assert.equal(session.state, 'idle');
    assert.equal((session.kernelInfo.language_info as { name: string }).name, 'typescript');
    assert.equal(await session.ping(2000), true);
  });

  it('executes cells in order with shared state and counts executions', async () => {
    const a = await run(session, 'const x: number = 40;');
    const b = await run(session, 'console.log(x + 2);');
    assert.equal(a.result.status, 'ok');
    assert.equal(b.result.status, 'ok');
    assert.equal(b.stdout, '42\n');
    assert.ok(a.result.executionCount !== null && b.result.executionCount !== null, 'execute_reply carries execution counts');
    assert.ok(b.result.executionCount > a.result.executionCount);
  });

  it('shows pertset display objects as rich outputs, our MIME type first', async () => {
    const r = await run(session, 'pertset.display.imageGrid([[[0, 1], [1, 0]]], { title: "tiny" })');
    assert.equal(r.result.status, 'ok');
    const grid = r.builder.outputs.find((o) => o.items[0].mime === MIME.imageGrid);
    assert.ok(grid, `outputs: ${JSON.stringify(r.builder.outputs.map((o) => o.items.map((i) => i.mime)))}`);
    assert.deepEqual(grid.items.map((i) => i.mime), [MIME.imageGrid, MIME.html, MIME.plain]);
    const payload = validateImageGridPayload(JSON.parse(Buffer.from(grid.items[0].data).toString('utf8')));
    assert.equal(payload.title, 'tiny');
    assert.deepEqual([...Buffer.from(payload.pixels, 'base64')], [0, 255, 255, 0]);
  });

  it('streams output while the cell is still running', async () => {
    const flag = path.join(workDir, 'go');
    // The cell waits for a file that the test writes only after receiving the first chunk,
    // so this passes only if "first" is delivered before the cell finishes.
    const code = [
      'import * as fs from "fs";',
      'console.log("first");',
      `while (!fs.existsSync(${JSON.stringify(flag)})) await new Promise((r) => setTimeout(r, 20));`,
      'console.log("second");',
    ].join('\n');
    const r = await run(session, code, (m) => {
      if (m.header.msg_type === 'stream' && String((m.content as { text: string }).text).includes('first')) fs.writeFileSync(flag, '');
    });
    assert.equal(r.result.status, 'ok');
    assert.equal(r.stdout, 'first\nsecond\n');
    assert.equal(r.builder.outputs.length, 1, 'consecutive stdout chunks share one output');
  });

  it('maps display_data, update_display_data and our vendor MIME type to outputs', async () => {
    const payload = JSON.stringify({ version: 1, height: 1, width: 1, channels: 1, count: 1, columns: 1, pixels: 'AA==' });
    const code = [
      'import * as tslab from "tslab";',
      'tslab.display.html("<b>static</b>");',
      'const d = tslab.newDisplay();',
      'd.text("step 1");',
      'd.text("step 2");',
      `tslab.display.raw("application/vnd.pertset.image-grid+json", ${JSON.stringify(payload)});`,
    ].join('\n');
    const r = await run(session, code);
    assert.equal(r.result.status, 'ok');
    assert.ok(r.types.includes('update_display_data'), `got ${r.types.join(', ')}`);
    assert.deepEqual(r.builder.outputs.map((o) => o.items[0].mime), ['text/html', 'text/plain', 'application/vnd.pertset.image-grid+json']);
    assert.equal(r.texts[1].text, 'step 2');
    assert.deepEqual(JSON.parse(r.texts[2].text), JSON.parse(payload));
    assert.equal(r.builder.outputs[1].metadata.transient?.display_id !== undefined, true);
  });

  it('reports a failing cell as an error with its message', async () => {
    const r = await run(session, 'throw new Error("boom in cell");');
    assert.equal(r.result.status, 'error');
    assert.match(errorText(r.texts), /boom in cell/);
    // stock tslab aborts requests arriving within 200 ms of an error
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await run(session, 'console.log(x);')).stdout, '40\n');
  });

  it('interrupts a busy cell and keeps the kernel state', async () => {
    let interrupted = false;
    const r = await run(session, 'console.log("spinning"); while (true) {}', (m) => {
      if (!interrupted && m.header.msg_type === 'stream') {
        interrupted = true;
        void session.interrupt();
      }
    });
    assert.equal(interrupted, true);
    assert.notEqual(r.result.status, 'ok');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await run(session, 'console.log(x + 1);')).stdout, '41\n');
  });

  it('restarts into a fresh kernel process without the old state', async () => {
    const pid = session.pid;
    await session.restart();
    assert.notEqual(session.pid, pid);
    assert.equal(session.state, 'idle');
    assert.equal((await run(session, 'console.log(typeof (globalThis as any).x, 1 + 1);')).stdout, 'undefined 2\n');
  });

  it('reports the kernel dying with its exit code and rejects the running cell', async () => {
    const died = new Promise<{ code: number | null }>((resolve) => session.once('died', resolve));
    await assert.rejects(run(session, 'console.error("about to exit"); process.exit(3);'), (err: Error) => {
      assert.ok(err instanceof KernelDiedError, `${err.name}: ${err.message}`);
      assert.match(err.message, /exited with code 3/);
      assert.match(err.message, /restart the kernel/);
      return true;
    });
    assert.equal((await died).code, 3);
    assert.equal(session.state, 'dead');
    await assert.rejects(session.execute('1'), /the kernel is dead; restart it first/);
    await session.restart();
    assert.equal((await run(session, 'console.log("back");')).stdout, 'back\n');
  });
});

describe('a kernel whose client died', () => {
  it('exits on its own when the client is SIGKILLed (JPY_PARENT_PID)', async () => {
    const { spawn } = await import('child_process');
    const clientModule = path.join(__dirname, '..', '..', 'kernel', 'jupyter', 'client');
    const script = `const { KernelSession } = require(${JSON.stringify(clientModule)});
      KernelSession.start({ argv: ${JSON.stringify(kernelArgv())}, startTimeoutMs: 60000 })
        .then((s) => { console.log('kernel ' + s.pid); setInterval(() => {}, 1000); });`;
    const client = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const kernelPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      client.stdout!.on('data', (d) => {
        out += String(d);
        const m = /kernel (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      client.on('exit', (code) => reject(new Error(`client exited (${code}) before the kernel started`)));
    });
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Exited, also when not yet reaped: the orphaned kernel's exit status waits for init, which a
    // loaded machine may be slow to collect, and kill(pid, 0) still succeeds on a zombie.
    const exited = (pid: number) => {
      if (!fs.existsSync('/proc/self/stat')) return !alive(pid);
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
      } catch {
        return true;
      }
    };
    assert.ok(alive(kernelPid));
    const clientReaped = new Promise<void>((resolve) => client.on('exit', () => resolve()));
    client.kill('SIGKILL');
    // Only once the client is reaped does the kernel's check of JPY_PARENT_PID fail (a zombie
    // parent still answers kill(pid, 0)); from then on the kernel's 1 s poll must notice. Its
    // event loop may be busy for a while on a loaded machine, so wait on the condition itself.
    await clientReaped;
    const deadline = Date.now() + 60_000;
    while (!exited(kernelPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stillAlive = !exited(kernelPid);
    if (stillAlive) process.kill(kernelPid, 'SIGKILL');
    assert.ok(!stillAlive, 'the kernel outlived its client by 60 s');
  });
});
