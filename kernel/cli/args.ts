/**
 * Argument parsing for the CLI commands, on Node's own `util.parseArgs` (strict: an unknown
 * option is an error naming the option).
 */
import { parseArgs, type ParseArgsConfig } from 'util';
import { ConfigError } from '../api/errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parse(command: string, argv: string[], options: OptionSpec, allowPositionals = false): Parsed {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals }) as Parsed;
  } catch (e) {
    throw new ConfigError(`${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')} (see \`pertset ${command} --help\`)`);
  }
}

export function intOption(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

export function numberOption(name: string, v: string | undefined, min = -Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`--${name} must be a number >= ${min}, got "${v}"`);
  return n;
}
