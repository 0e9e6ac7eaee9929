/**
 * tslab's ZmqServer (sockets, heartbeat, signing) with our message handling: every request goes
 * through `KernelSession`, which adds what tslab lacks (execute_input, execute_result, error
 * messages, history, `invalid` code, a correct comm_info_reply, interrupt_request).
 */
import { KernelSession, type CellIO, type DisplayContent } from './session';
import { ZmqServer } from './tslab';
import { Message, type Socket } from './wire';

export class KernelServer extends ZmqServer {
  constructor(
    readonly session: KernelSession,
    configPath: string,
    private readonly onShutdown: () => void,
    /** Called after each kernel_info_reply went out (the launcher starts the session after the first). */
    private readonly onKernelInfo: () => void = () => undefined,
  ) {
    // tslab's handler slot: our handleShellMessage answers every request, so tslab only calls
    // close() through it (from ZmqServer.close); the rest keeps the shape it expects.
    super(
      {
        handleKernel: () => session.kernelInfo(),
        handleExecute: () => Promise.reject(new Error('execute is handled by KernelServer')),
        handleIsComplete: (r: { code: string }) => session.isComplete(r.code),
        handleInspect: (r: { code: string; cursor_pos: number }) => session.inspect(r.code, r.cursor_pos),
        handleComplete: (r: { code: string; cursor_pos: number }) => session.complete(r.code, r.cursor_pos),
        handleShutdown: (r: { restart?: boolean }) => ({ status: 'ok', restart: r.restart === true }),
        close: () => session.close(),
      } as unknown as ConstructorParameters<typeof ZmqServer>[0],
      configPath,
    );
  }

  private get key(): string {
    return this.connInfo.key;
  }

  private send(sock: Socket, parent: Message, msgType: string, content: object): void {
    parent.reply(msgType, content).signAndSend(this.key, sock);
  }

  private status(parent: Message, state: 'busy' | 'idle'): void {
    this.send(this.iopub as unknown as Socket, parent, 'status', { execution_state: state });
  }

  override async handleShellMessage(sock: ZmqServer['shell'], ...frames: Buffer[]): Promise<void> {
    let msg: Message;
    try {
      msg = Message.parse(this.key, frames);
    } catch (e) {
      process.stderr.write(`pertset kernel: dropped a message: ${(e as Error).message}\n`);
      return;
    }
    const out = sock as unknown as Socket;
    const content = msg.content as Record<string, unknown>;
    const type = msg.header.msg_type;
    if (type === 'execute_request') {
      // Busy/idle bracket the cell's own run, so queued cells do not interleave their statuses.
      // Idle goes out just before the reply: a client that reads the reply and then drains IOPub
      // (jupyter_kernel_test, with 0.1 s timeouts) finds every message already queued.
      let reply: object;
      try {
        reply = await this.session.execute(content as never, this.cellIO(msg, () => this.status(msg, 'busy')));
      } catch (e) {
        reply = { status: 'error', execution_count: 0, ename: 'KernelError', evalue: (e as Error).message, traceback: [String((e as Error).stack)] };
      }
      this.status(msg, 'idle');
      this.send(out, msg, 'execute_reply', reply);
      return;
    }
    this.status(msg, 'busy');
    try {
      switch (type) {
        case 'kernel_info_request':
          this.send(out, msg, 'kernel_info_reply', this.session.kernelInfo());
          this.onKernelInfo();
          break;
        case 'is_complete_request':
          this.send(out, msg, 'is_complete_reply', this.session.isComplete(String(content.code ?? '')));
          break;
        case 'inspect_request':
          await this.session.start();
          this.send(out, msg, 'inspect_reply', this.session.inspect(String(content.code ?? ''), Number(content.cursor_pos ?? 0)));
          break;
        case 'complete_request':
          await this.session.start();
          this.send(out, msg, 'complete_reply', this.session.complete(String(content.code ?? ''), Number(content.cursor_pos ?? 0)));
          break;
        case 'history_request':
          this.send(out, msg, 'history_reply', { status: 'ok', history: this.session.history.query(content) });
          break;
        case 'comm_info_request':
          // No comm targets (no widgets); the reply type is what tslab gets wrong.
          this.send(out, msg, 'comm_info_reply', { status: 'ok', comms: {} });
          break;
        case 'interrupt_request':
          this.session.interrupt();
          this.send(out, msg, 'interrupt_reply', { status: 'ok' });
          break;
        case 'shutdown_request':
          this.send(out, msg, 'shutdown_reply', { status: 'ok', restart: content.restart === true });
          break;
        default:
          process.stderr.write(`pertset kernel: unsupported message type "${type}"\n`);
      }
    } finally {
      this.status(msg, 'idle');
    }
    if (type === 'shutdown_request') this.onShutdown();
  }

  private cellIO(parent: Message, onStart: () => void): CellIO {
    const iopub = this.iopub as unknown as Socket;
    const pub = (type: string, content: object) => this.send(iopub, parent, type, content);
    return {
      begin: onStart,
      executeInput: (code, count) => pub('execute_input', { code, execution_count: count }),
      stream: (name, text) => pub('stream', { name, text }),
      displayData: (c: DisplayContent, update) => pub(update ? 'update_display_data' : 'display_data', c),
      clearOutput: (wait) => pub('clear_output', { wait }),
      executeResult: (count, bundle) => pub('execute_result', { execution_count: count, data: bundle.data, metadata: bundle.metadata ?? {} }),
      error: (err) => pub('error', err),
    };
  }
}
