/**
 * The five ZeroMQ channels to one kernel (shell, control and stdin as DEALERs, iopub as a
 * SUBSCRIBER, heartbeat as a REQ) and the connection file that tells the kernel where to bind.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { randomBytes, randomUUID } from 'crypto';
import * as zmq from 'zeromq';
import { JupyterMessage, MessageCodec, WireError } from '../wire';

export interface ConnectionInfo {
  ip: string;
  transport: 'tcp';
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

/** Free TCP ports on 127.0.0.1, held open together so they are distinct, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Writes a fresh connection file (random key, mode 0600) and returns its path and contents. */
export async function writeConnectionFile(kernelName: string): Promise<{ file: string; info: ConnectionInfo }> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await freePorts(5);
  const info: ConnectionInfo = {
    ip: '127.0.0.1', transport: 'tcp', shell_port, iopub_port, stdin_port, control_port, hb_port,
    key: randomBytes(32).toString('hex'), signature_scheme: 'hmac-sha256', kernel_name: kernelName,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-kernel-'));
  const file = path.join(dir, `kernel-${randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  return { file, info };
}

/** Sockets connected to a kernel; incoming messages are delivered to `onMessage`. */
export class KernelConnection {
  private readonly codec: MessageCodec;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber };
  private closed = false;

  constructor(
    readonly info: ConnectionInfo,
    private readonly onMessage: (channel: Channel, msg: JupyterMessage) => void,
  ) {
    this.codec = new MessageCodec(info.key, info.signature_scheme);
    const url = (port: number): string => `${info.transport}://${info.ip}:${port}`;
    // linger 0: closing must not wait for undelivered messages to a dead kernel.
    this.sockets = {
      shell: new zmq.Dealer({ linger: 0 }),
      control: new zmq.Dealer({ linger: 0 }),
      stdin: new zmq.Dealer({ linger: 0 }),
      iopub: new zmq.Subscriber({ linger: 0 }),
    };
    this.sockets.shell.connect(url(info.shell_port));
    this.sockets.control.connect(url(info.control_port));
    this.sockets.stdin.connect(url(info.stdin_port));
    this.sockets.iopub.connect(url(info.iopub_port));
    this.sockets.iopub.subscribe();
    for (const channel of ['shell', 'control', 'stdin', 'iopub'] as const) void this.receive(channel);
  }

  private async receive(channel: Channel): Promise<void> {
    const socket = this.sockets[channel];
    try {
      for await (const frames of socket) {
        let msg: JupyterMessage;
        try {
          msg = this.codec.decode(frames).message;
        } catch (err) {
          // Not from our kernel (bad signature) or garbled: ignored, as Jupyter's own clients do.
          if (err instanceof WireError) continue;
          throw err;
        }
        this.onMessage(channel, msg);
      }
    } catch (err) {
      // Receiving ends with an error when the socket is closed; anything else is worth a log line,
      // and the session notices a dead kernel through its process anyway.
      if (!this.closed) console.error(`pertset kernel client: ${channel} channel failed: ${(err as Error).message}`);
    }
  }

  /** zeromq allows one pending send per socket, so sends on a channel are chained. */
  private readonly sendQueues = new Map<Channel, Promise<void>>();

  send(channel: Exclude<Channel, 'iopub'>, msg: JupyterMessage<unknown>): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`cannot send ${msg.header.msg_type}: the connection is closed`));
    const frames = this.codec.encode(msg);
    const previous = this.sendQueues.get(channel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.sockets[channel].send(frames));
    this.sendQueues.set(channel, next);
    return next;
  }

  /** One heartbeat round trip: true when the kernel echoed within `timeoutMs`. */
  async ping(timeoutMs = 1000): Promise<boolean> {
    const hb = new zmq.Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
    try {
      hb.connect(`${this.info.transport}://${this.info.ip}:${this.info.hb_port}`);
      await hb.send('ping');
      const [echo] = await hb.receive();
      return echo.toString() === 'ping';
    } catch {
      return false;
    } finally {
      hb.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of Object.values(this.sockets)) s.close();
  }
}
