/**
 * `pertset` command line. Each command lives in its own module under ./commands and is loaded
 * only when invoked, so `pertset kernel list` does not pay for loading TensorFlow.js.
 */
import { PertsetError } from '../api/errors';

export interface Command {
  /** One line for `pertset --help`. */
  summary: string;
  /** Full usage text for `pertset <command> --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, string> = {
  train: './commands/train',
  'robust-train': './commands/robust-train',
  'robust-eval': './commands/robust-eval',
  certify: './commands/certify',
  radius: './commands/radius',
  eval: './commands/eval',
  data: './commands/data',
  corrupt: './commands/corrupt',
  bench: './commands/bench',
  info: './commands/info',
  kernel: './commands/kernel',
  'import-torch': './commands/import-torch',
  reproduce: './commands/reproduce',
  results: './commands/results',
};

function loadCommand(name: string): Command {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(COMMANDS[name]).command as Command;
}

function help(): string {
  const lines = ['usage: pertset <command> [options]', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    let summary = '';
    try {
      summary = loadCommand(name).summary;
    } catch {
      summary = '(unavailable in this build)';
    }
    lines.push(`  ${name.padEnd(14)} ${summary}`);
  }
  lines.push('', 'Run `pertset <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  if (!(name in COMMANDS)) {
    console.error(`pertset: unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  const command = loadCommand(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof PertsetError) {
      console.error(`pertset ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
