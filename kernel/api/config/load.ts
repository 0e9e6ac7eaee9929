/**
 * Loading configs by name (the shipped `kernel/configs/<name>.json`) or by file path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { fromReferenceConfig } from './from-reference';
import type { ConfigOverrides, PertsetConfig } from './types';

/** The folder of shipped configs, from the compiled (`dist/kernel/api/config`) or source location. */
export function builtinConfigDir(): string {
  const candidates = [path.resolve(__dirname, '..', '..', 'configs'), path.resolve(__dirname, '..', '..', '..', '..', 'kernel', 'configs')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'mnist_fc_linf.json'))) return c;
  throw new ConfigError(`shipped configs not found (looked in ${candidates.join(', ')}); is the package installed completely?`);
}

/** Names of the shipped configs, e.g. `mnist_fc_linf`. */
export function builtinConfigNames(): string[] {
  return fs
    .readdirSync(builtinConfigDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes(path.sep) || s.endsWith('.json');
}

/** Parses a JSON file; errors name the file and the JSON problem. */
export function readJsonFile(file: string, what = 'config'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${what} file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

/**
 * Loads a config: `nameOrFile` is a shipped name (`mnist_fc_linf`) or a path to a JSON file in
 * the reference schema. Overrides (epochs, limit, seed, data, out) are applied and recorded.
 */
export function loadConfig(nameOrFile: string, overrides: ConfigOverrides = {}): PertsetConfig {
  if (!nameOrFile) throw new ConfigError('config: no name or file given');
  if (!looksLikePath(nameOrFile)) {
    const file = path.join(builtinConfigDir(), `${nameOrFile}.json`);
    if (!fs.existsSync(file)) {
      if (fs.existsSync(nameOrFile)) return fromReferenceConfig(readJsonFile(nameOrFile), nameOrFile, overrides);
      throw new ConfigError(`config "${nameOrFile}": no such shipped config (expected one of ${builtinConfigNames().join(', ')}) and no such file`);
    }
    return fromReferenceConfig(readJsonFile(file), `builtin:${nameOrFile}`, overrides);
  }
  if (!fs.existsSync(nameOrFile)) throw new ConfigError(`config file ${nameOrFile} does not exist`);
  return fromReferenceConfig(readJsonFile(nameOrFile), nameOrFile, overrides);
}
