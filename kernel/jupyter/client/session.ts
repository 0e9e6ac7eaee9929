/**
 * One running kernel: starts the process with a fresh connection file, waits until shell and
 * iopub both answer, executes code (outputs streamed to the caller as iopub messages), interrupts,
 * restarts, shuts down, and reports the process dying with its exit status and last stderr.
 * Plain Node (no `vscode`), so it is tested against the real kernel.
 */
import { ChildProcess, spawn } from 'child_process';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { Channel, KernelConnection, writeConnectionFile } from './connection';
import { KernelDiedError, KernelNotRunningError, KernelStartError } from './errors';
import { JupyterMessage, newMessage } from '../wire';
import { randomUUID } from 'crypto';

export interface KernelLaunchSpec {
  /** Command line; the element "{connection_file}" is replaced by the connection file's path. */
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** "signal" sends SIGINT to the process (our launcher and tslab); "message" an interrupt_request. */
  interruptMode?: 'signal' | 'message';
  kernelName?: string;
  /** How long the kernel may take to answer kernel_info after starting (default 60 s). */
  startTimeoutMs?: number;
}

export interface ExecuteHandlers {
  /** Every iopub message caused by this request (status, stream, display_data, error, ...). */
  onIopub?(msg: JupyterMessage): void;
  /** Answers an input_request; without it the kernel is told stdin is not allowed. */
  onInput?(prompt: string, password: boolean): Promise<string>;
}

export type ExecuteStatus = 'ok' | 'error' | 'abort';

export interface ExecuteResult {
  status: ExecuteStatus;
  executionCount: number | null;
  /** The execute_reply content (ename/evalue/traceback on error). */
  reply: Record<string, unknown>;
}

export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the kernel wrote to stderr, for the "kernel died" message. */
  stderrTail: string;
}

export type SessionState = 'starting' | 'idle' | 'busy' | 'restarting' | 'dead' | 'shutdown';

interface PendingRequest {
  handlers: ExecuteHandlers;
  reply?: JupyterMessage;
  idle: boolean;
  /** Settles once both the shell reply and the iopub "idle" for this request arrived. */
  resolve(reply: JupyterMessage): void;
  reject(err: Error): void;
}

const STDERR_TAIL_CHARS = 4000;

export interface KernelSessionEvents {
  status: [SessionState];
  died: [KernelExit];
  stderr: [string];
}

export class KernelSession extends EventEmitter<KernelSessionEvents> {
  private readonly sessionId = randomUUID();
  private readonly pending = new Map<string, PendingRequest>();
  private process?: ChildProcess;
  private connection?: KernelConnection;
  private connectionFile?: string;
  private stderrTail = '';
  private expectingExit = false;
  private exited?: Promise<void>;
  private _state: SessionState = 'starting';
  /** kernel_info_reply content of the running kernel. */
  kernelInfo: Record<string, unknown> = {};

  private constructor(private readonly spec: KernelLaunchSpec) {
    super();
  }

  static async start(spec: KernelLaunchSpec): Promise<KernelSession> {
    const session = new KernelSession(spec);
    await session.launch();
    return session;
  }

  get state(): SessionState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  private setState(state: SessionState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('status', state);
  }

  private async launch(): Promise<void> {
    this.setState('starting');
    const { file, info } = await writeConnectionFile(this.spec.kernelName ?? 'pertset');
    this.connectionFile = file;
    const argv = this.spec.argv.map((a) => a.replace('{connection_file}', file));
    this.stderrTail = '';
    this.expectingExit = false;
    // JPY_PARENT_PID: the kernel exits if this process dies without shutting it down (as with jupyter_client).
    const env = { ...(this.spec.env ?? process.env), JPY_PARENT_PID: String(process.pid) };
    const child = spawn(argv[0], argv.slice(1), { cwd: this.spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    const keepTail = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
      this.emit('stderr', text);
    };
    child.stderr!.on('data', keepTail);
    child.stdout!.on('data', keepTail);
    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(child, { code, signal, stderrTail: this.stderrTail.trim() });
      });
    });
    this.connection = new KernelConnection(info, (channel, msg) => this.route(channel, msg));

    const deadline = Date.now() + (this.spec.startTimeoutMs ?? 60_000);
    const exitedEarly = this.exited.then(() => {
      const why = spawnError ? `could not run ${argv[0]}: ${spawnError.message}` : `the kernel process exited during startup`;
      throw new KernelStartError(`${why} (command: ${argv.join(' ')})${this.stderrTail ? `\n${this.stderrTail.trim()}` : ''}`);
    });
    exitedEarly.catch(() => undefined);
    // Retry kernel_info until it is answered on shell AND seen on iopub: a subscriber misses
    // everything published before its subscription reaches the kernel ("slow joiner").
    for (;;) {
      if (Date.now() > deadline) {
        await this.killProcess();
        throw new KernelStartError(`the kernel did not answer kernel_info within ${this.spec.startTimeoutMs ?? 60_000} ms (command: ${argv.join(' ')})`);
      }
      const attempt = this.request('shell', 'kernel_info_request', {}, {}, true);
      const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, 1500, undefined));
      const reply = await Promise.race([attempt, timeout, exitedEarly]);
      if (reply) {
        this.kernelInfo = reply.content;
        break;
      }
    }
    this.setState('idle');
  }

  private onExit(child: ChildProcess, exit: KernelExit): void {
    if (child !== this.process) return;
    this.connection?.close();
    this.removeConnectionFile();
    if (this.expectingExit) return;
    const err = new KernelDiedError(describeExit(exit));
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this._state !== 'starting') {
      this.setState('dead');
      this.emit('died', exit);
    }
  }

  private route(channel: Channel, msg: JupyterMessage): void {
    const parentId = msg.parent_header.msg_id;
    const p = parentId ? this.pending.get(parentId) : undefined;
    if (channel === 'iopub') {
      if (msg.header.msg_type === 'status') {
        const state = (msg.content as { execution_state?: string }).execution_state;
        if (state === 'busy' || state === 'idle') this.setState(state);
      }
      if (!p) return;
      p.handlers.onIopub?.(msg);
      if (msg.header.msg_type === 'status' && (msg.content as { execution_state?: string }).execution_state === 'idle') {
        p.idle = true;
        this.settle(parentId!, p);
      }
    } else if (channel === 'stdin') {
      if (p && msg.header.msg_type === 'input_request') void this.answerInput(msg, p);
    } else if (p && msg.header.msg_type.endsWith('_reply')) {
      p.reply = msg;
      this.settle(parentId!, p);
    }
  }

  private settle(id: string, p: PendingRequest): void {
    if (p.reply && p.idle) {
      this.pending.delete(id);
      p.resolve(p.reply);
    }
  }

  private async answerInput(request: JupyterMessage, p: PendingRequest): Promise<void> {
    const { prompt, password } = request.content as { prompt: string; password: boolean };
    const value = p.handlers.onInput ? await p.handlers.onInput(prompt, password).catch(() => '') : '';
    await this.connection?.send('stdin', newMessage('input_reply', { value }, this.sessionId, request.header));
  }

  /**
   * Sends a request and resolves with its reply once the kernel is idle again (so every output
   * it caused has been delivered). `replyOnly` resolves on the reply alone (kernel_info at startup).
   */
  request(channel: 'shell' | 'control', msgType: string, content: Record<string, unknown>, handlers: ExecuteHandlers = {}, replyOnly = false): Promise<JupyterMessage> {
    const connection = this.connection;
    if (!connection || this._state === 'dead' || this._state === 'shutdown') {
      return Promise.reject(new KernelNotRunningError(`cannot send ${msgType}: the kernel is ${this._state}; restart it first`));
    }
    const msg = newMessage(msgType, content, this.sessionId);
    const promise = new Promise<JupyterMessage>((resolve, reject) => {
      this.pending.set(msg.header.msg_id, { handlers, idle: replyOnly || channel === 'control', resolve, reject });
    });
    connection.send(channel, msg).catch((err: Error) => {
      const p = this.pending.get(msg.header.msg_id);
      this.pending.delete(msg.header.msg_id);
      p?.reject(err);
    });
    return promise;
  }

  async execute(code: string, handlers: ExecuteHandlers = {}, options: { silent?: boolean; storeHistory?: boolean } = {}): Promise<ExecuteResult> {
    const reply = await this.request('shell', 'execute_request', {
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? true,
      user_expressions: {},
      allow_stdin: handlers.onInput !== undefined,
      stop_on_error: true,
    }, handlers);
    const content = reply.content as { status?: ExecuteStatus; execution_count?: number };
    return { status: content.status ?? 'error', executionCount: content.execution_count ?? null, reply: reply.content };
  }

  /** Interrupts the running cell; the kernel stays alive with its state. */
  async interrupt(): Promise<void> {
    if (!this.process || this._state === 'dead' || this._state === 'shutdown') return;
    if ((this.spec.interruptMode ?? 'signal') === 'signal') this.process.kill('SIGINT');
    else await this.request('control', 'interrupt_request', {});
  }

  /** Stops the kernel and starts a fresh process (all kernel state is lost). */
  async restart(): Promise<void> {
    this.setState('restarting');
    await this.stop(true);
    await this.launch();
  }

  async shutdown(): Promise<void> {
    await this.stop(false);
    this.setState('shutdown');
  }

  private async stop(restart: boolean): Promise<void> {
    const err = new KernelNotRunningError(restart ? 'the kernel was restarted' : 'the kernel was shut down');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.expectingExit = true;
    if (this.process && this.process.exitCode === null && this.process.signalCode === null && this._state !== 'dead') {
      // Ask politely, then insist: a busy kernel may never read the control channel.
      const reply = this.request('control', 'shutdown_request', { restart }).catch(() => undefined);
      await Promise.race([reply.then(() => this.waitExit(1000)), this.waitExit(2000)]);
    }
    await this.killProcess();
    this.connection?.close();
    this.removeConnectionFile();
  }

  private async waitExit(ms: number): Promise<void> {
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, ms))]);
  }

  private async killProcess(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    child.kill('SIGTERM');
    await this.waitExit(1000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await this.waitExit(1000);
    }
  }

  private removeConnectionFile(): void {
    if (!this.connectionFile) return;
    fs.rmSync(path.dirname(this.connectionFile), { recursive: true, force: true });
    this.connectionFile = undefined;
  }

  /** Heartbeat round trip (false if the kernel does not echo within `timeoutMs`). */
  ping(timeoutMs = 1000): Promise<boolean> {
    return this.connection?.ping(timeoutMs) ?? Promise.resolve(false);
  }
}

export function describeExit(exit: KernelExit): string {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const tail = exit.stderrTail ? `\nLast kernel output:\n${exit.stderrTail.split('\n').slice(-15).join('\n')}` : '';
  return `The Perturbation Sets kernel ${how}. Its variables are lost; restart the kernel to continue.${tail}`;
}
