/**
 * The pertset Jupyter kernel: `node dist/kernel/jupyter/launcher.js --config-path <connection file>`
 * (what `pertset kernel install` writes into kernel.json). Builds tslab's executor with the API
 * preloaded as `pertset`, then serves the Jupyter protocol on the connection file's ports.
 */
import { parseArgs } from 'util';
import { KernelSession } from './session';
import { KernelServer } from './server';

export async function startKernel(configPath: string): Promise<KernelServer> {
  const session = new KernelSession();
  // The TypeScript program and the preamble take seconds of synchronous work. Start them when
  // the client has stopped polling kernel_info (it retries until its IOPub subscription is up,
  // and a blocked event loop would stall that handshake), so the client sees the kernel ready
  // at once while the API is type-checked. Requests that need the program wait for it.
  let startTimer: NodeJS.Timeout | undefined;
  const startAfterQuiet = (ms: number) => {
    if (startTimer) clearTimeout(startTimer);
    startTimer = setTimeout(() => void session.start(), ms);
  };
  const server = new KernelServer(
    session,
    configPath,
    () => {
      server.close();
      // tfjs wasm worker threads would keep the process alive after the sockets closed.
      setTimeout(() => process.exit(0), 100);
    },
    () => startAfterQuiet(300),
  );
  process.on('SIGINT', () => session.interrupt());
  // Like tslab: a stray async error in user code must not kill the session.
  process.on('uncaughtException', (err) => process.stderr.write(`Uncaught exception: ${err?.stack ?? err}\n`));
  process.on('unhandledRejection', (reason) => process.stderr.write(`Unhandled promise rejection: ${(reason as Error)?.stack ?? reason}\n`));
  await server.init();
  startAfterQuiet(500);
  return server;
}

/**
 * Exit when the process that launched us is gone (Jupyter's JPY_PARENT_PID convention, which
 * jupyter_client and our own client set): a client killed with SIGKILL must not leave a kernel
 * behind that goes on training.
 */
export function exitWithParent(env: NodeJS.ProcessEnv = process.env, intervalMs = 1000): NodeJS.Timeout | undefined {
  const parent = Number(env.JPY_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 1) return undefined;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') process.exit(0);
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { 'config-path': { type: 'string' } }, strict: true });
  const configPath = values['config-path'];
  if (!configPath) {
    process.stderr.write('usage: node launcher.js --config-path <connection_file>\n');
    process.exit(2);
  }
  exitWithParent();
  startKernel(configPath).catch((e) => {
    process.stderr.write(`pertset kernel: cannot start: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}

if (require.main === module) main(process.argv.slice(2));
