/** Runs a compiled fixture of this folder in a fresh Node process and parses its JSON line. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export function runFixture<T>(name: string, env: Record<string, string>): T {
  const file = path.join(__dirname, 'fixtures', `${name}.js`);
  const r = spawnSync(process.execPath, [file], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`fixture ${name} exited ${r.status}: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`fixture ${name} printed no JSON: ${r.stdout} ${r.stderr}`);
  return JSON.parse(line) as T;
}
