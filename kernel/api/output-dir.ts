/**
 * Creating the folders pertset writes to (run directories, the data cache, Jupyter's data dir).
 * Every such folder goes through `ensureDir`, which creates one level at a time instead of using
 * `fs.mkdirSync(dir, { recursive: true })`: on filesystems such as /proc, mkdir of a child reports
 * ENOENT although the parent exists, and Node's recursive mkdir then retries forever at full CPU.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OutputDirError } from './errors';

function why(dir: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `${path.dirname(dir)} exists but refuses new folders (mkdir reports ENOENT, as on virtual filesystems such as /proc)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied creating ${dir}`;
    case 'EROFS':
      return `${path.dirname(dir)} is on a read-only filesystem`;
    case 'ENOSPC':
      return `no space left on the device holding ${path.dirname(dir)}`;
    default:
      return `${code ?? 'error'} creating ${dir} (${(e as Error).message})`;
  }
}

/**
 * Creates `dir` and its missing parents, checks that folders can be created inside it, and returns
 * its absolute path. `what` names the folder in errors ("run folder", "data cache"). Throws an
 * `OutputDirError` naming the path and the reason, never hangs.
 */
export function ensureDir(dir: string, what: string): string {
  const target = path.resolve(dir);
  const fail = (reason: string, code = 'ENOTDIR') => new OutputDirError(`cannot create the ${what} ${target}: ${reason}`, code, target);
  const missing: string[] = [];
  for (let p = target; ; p = path.dirname(p)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: some ancestor is a file; the walk up finds it and says so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fail(why(p, e), code);
    }
    if (stat) {
      if (!stat.isDirectory()) throw fail(`${p} exists and is not a folder`);
      break;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      // Another process may have created it in between; that is fine.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw fail(why(d, e), (e as NodeJS.ErrnoException).code);
    }
  }
  // An existing folder may still refuse children (/proc/self); find out now, not mid-run.
  let probe: string | undefined;
  try {
    probe = fs.mkdtempSync(path.join(target, '.pertset-probe-'));
  } catch (e) {
    throw fail(why(path.join(target, '.pertset-probe'), e), (e as NodeJS.ErrnoException).code);
  } finally {
    if (probe) fs.rmdirSync(probe);
  }
  return target;
}
