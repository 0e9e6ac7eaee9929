/**
 * tslab's ZmqServer (sockets, heartbeat, signing) with our message handling: every request goes
 * through `KernelSession`, which adds what tslab lacks (execute_input, execute_result, error
 * messages, history, `invalid` code, a correct comm_info_reply, interrupt_request).
 */
import { MessageCodec, replyTo, type JupyterMessage } from './wire';
import { IopubCoalescer } from './iopub';
import { queueSend, whenSent, type Socket } from './send-queue';
import { KernelSession, type CellIO, type DisplayContent } from './session';
import { ZmqServer } from './tslab';

/** A request as received on shell or control, with the identities that route its reply back. */
interface Request {
  identities: Buffer[];
  message: JupyterMessage;
}

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
    // IOPub is a PUB socket, which silently drops messages for a subscriber that is
    // `sendHighWaterMark` (default 1,000) behind: never drop output, buffer it instead. The limit
    // must be set before the socket binds, inside tslab's init(), through its private bindSocket.
    const self = this as unknown as { bindSocket(sock: unknown, port: number): Promise<void> };
    const bind = self.bindSocket.bind(this);
    self.bindSocket = (sock, port) => {
      if (sock === this.iopub) this.iopub.sendHighWaterMark = 0;
      return bind(sock, port);
    };
  }

  private codecInstance: MessageCodec | undefined;
  /** Every IOPub message goes through here: stream text and display updates are coalesced. */
  private readonly iopubOut = new IopubCoalescer((parent, msgType, content) =>
    queueSend(this.iopub as unknown as Socket, this.codec.encode(replyTo(parent, msgType, content))),
  );

  private get codec(): MessageCodec {
    this.codecInstance ??= new MessageCodec(this.connInfo.key, this.connInfo.signature_scheme);
    return this.codecInstance;
  }

  private send(sock: Socket, req: Request, msgType: string, content: object): void {
    queueSend(sock, this.codec.encode(replyTo(req.message, msgType, content), req.identities));
  }

  private status(req: Request, state: 'busy' | 'idle'): void {
    this.iopubOut.publish(req.message, 'status', { execution_state: state });
  }

  override async handleShellMessage(sock: ZmqServer['shell'], ...frames: Buffer[]): Promise<void> {
    let req: Request;
    try {
      req = this.codec.decode(frames);
    } catch (e) {
      process.stderr.write(`pertset kernel: dropped a message: ${(e as Error).message}\n`);
      return;
    }
    const out = sock as unknown as Socket;
    const content = req.message.content;
    const type = req.message.header.msg_type;
    if (type === 'execute_request') {
      // Busy/idle bracket the cell's own run, so queued cells do not interleave their statuses.
      // Idle goes out just before the reply: a client that reads the reply and then drains IOPub
      // (jupyter_kernel_test, with 0.1 s timeouts) finds every message already queued.
      let reply: object;
      try {
        reply = await this.session.execute(content as never, this.cellIO(req, () => this.status(req, 'busy')));
      } catch (e) {
        reply = { status: 'error', execution_count: 0, ename: 'KernelError', evalue: (e as Error).message, traceback: [String((e as Error).stack)] };
      }
      this.status(req, 'idle');
      this.send(out, req, 'execute_reply', reply);
      return;
    }
    this.status(req, 'busy');
    try {
      switch (type) {
        case 'kernel_info_request':
          this.send(out, req, 'kernel_info_reply', this.session.kernelInfo());
          this.onKernelInfo();
          break;
        case 'is_complete_request':
          this.send(out, req, 'is_complete_reply', this.session.isComplete(String(content.code ?? '')));
          break;
        case 'inspect_request':
          await this.session.start();
          this.send(out, req, 'inspect_reply', this.session.inspect(String(content.code ?? ''), Number(content.cursor_pos ?? 0)));
          break;
        case 'complete_request':
          await this.session.start();
          this.send(out, req, 'complete_reply', this.session.complete(String(content.code ?? ''), Number(content.cursor_pos ?? 0)));
          break;
        case 'history_request':
          this.send(out, req, 'history_reply', { status: 'ok', history: this.session.history.query(content) });
          break;
        case 'comm_info_request':
          // No comm targets (no widgets); the reply type is what tslab gets wrong.
          this.send(out, req, 'comm_info_reply', { status: 'ok', comms: {} });
          break;
        case 'interrupt_request':
          this.session.interrupt();
          this.send(out, req, 'interrupt_reply', { status: 'ok' });
          break;
        case 'shutdown_request':
          this.send(out, req, 'shutdown_reply', { status: 'ok', restart: content.restart === true });
          break;
        default:
          process.stderr.write(`pertset kernel: unsupported message type "${type}"\n`);
      }
    } finally {
      this.status(req, 'idle');
    }
    if (type === 'shutdown_request') this.onShutdown();
  }

  private cellIO(req: Request, onStart: () => void): CellIO {
    const parent = req.message;
    const pub = (type: string, content: object) => this.iopubOut.publish(parent, type, content);
    return {
      begin: onStart,
      executeInput: (code, count) => pub('execute_input', { code, execution_count: count }),
      stream: (name, text) => this.iopubOut.stream(parent, name, text),
      displayData: (c: DisplayContent, update) => (update ? this.iopubOut.updateDisplay(parent, c) : pub('display_data', c)),
      clearOutput: (wait) => pub('clear_output', { wait }),
      executeResult: (count, bundle) => pub('execute_result', { execution_count: count, data: bundle.data, metadata: bundle.metadata ?? {} }),
      error: (err) => pub('error', err),
      sent: () => {
        this.iopubOut.flush();
        return whenSent(this.iopub as unknown as Socket);
      },
    };
  }
}
