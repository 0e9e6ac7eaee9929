/**
 * Where tests find real data and real clients. Under CI=true a missing client or data folder is
 * a failure (thrown), never a silent skip; on a developer machine the test is skipped with the
 * reason printed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { TestContext } from 'node:test';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const IS_CI = process.env.CI === 'true';

/** `../shared/data` beside the repo (override with PERTSET_SHARED_DATA). */
export function sharedDataDir(): string {
  return process.env.PERTSET_SHARED_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
}

/**
 * Returns true when `p` exists. Otherwise fails under CI, or marks the test skipped and returns false.
 * Use: `if (!requirePath(t, dir, 'shared MNIST')) return;`
 */
export function requirePath(t: TestContext, p: string, what: string): boolean {
  if (fs.existsSync(p)) return true;
  const msg = `${what} not found at ${p}`;
  if (IS_CI) throw new Error(`${msg} (required under CI=true)`);
  t.skip(msg);
  return false;
}

/** Debian's Python with Jupyter and torch (the `python3` on PATH may be another one). */
export const PYTHON = process.env.PERTSET_PYTHON ?? '/usr/bin/python3';
export const JUPYTER = '/usr/bin/jupyter';
export const CHROMIUM = process.env.PERTSET_CHROMIUM ?? '/usr/bin/chromium';

/** Directory for screenshots and other artifacts tests leave behind. */
export function artifactDir(sub: string): string {
  const d = path.join(REPO_ROOT, 'test-artifacts', sub);
  fs.mkdirSync(d, { recursive: true });
  return d;
}
