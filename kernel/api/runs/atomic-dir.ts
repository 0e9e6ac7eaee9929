/**
 * Writing a directory so that readers only ever see a complete one. Files go into a hidden
 * temporary sibling (`.tmp-<name>-<pid>-*`), are flushed to disk, and the directory is then renamed
 * into place. An existing directory is first renamed aside (`.old-<name>-<pid>-*`) and removed after
 * the swap. A crash while writing leaves the previous directory untouched; a crash between the
 * two renames leaves `.old-<name>-*`, which `recoverDir` (called before every read and write)
 * renames back. Temporaries of a process that is still running are left alone: they are another
 * writer's work in progress, not debris.
 *
 * A write that fails (disk full, read-only file system, no permission) removes its temporary and
 * throws a `StorageError` naming the path and the system error.
 *
 * Fault injection for tests, read here and nowhere else: `PERTSET_FAULT=enospc-after:N` makes
 * file writes fail with ENOSPC once this process has written N bytes (a full disk where no small
 * file system can be mounted; `erofs-after:N` and `eacces-after:N` likewise for a read-only file
 * system and a permission error); `PERTSET_FAULT=kill-during:NAME` sends this process SIGKILL
 * after the first file of a directory named NAME was written (a kill in the middle of that write).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ensureDir } from '../output-dir';
import { StorageError } from '../errors';

/** Test-only fault injection: throw from `afterFile` to simulate a crash mid-write. */
export interface AtomicWriteHooks {
  afterFile?(name: string): void;
  /** Called after the old directory was moved aside and before the new one is moved in. */
  betweenRenames?(): void;
}

let counter = 0;

const FAULT = (() => {
  const spec = process.env.PERTSET_FAULT ?? '';
  const fail = /^(enospc|erofs|eacces)-after:(\d+)$/.exec(spec);
  const kill = /^kill-during:(.+)$/.exec(spec);
  return { failCode: fail ? fail[1].toUpperCase() : '', failAfter: fail ? Number(fail[2]) : Infinity, killDuring: kill ? kill[1] : null };
})();
let bytesWritten = 0;

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/**
 * `e` as a StorageError naming `file` (what could not be written; `detail` says which part) when it
 * is a disk-full, read-only or permission error; other errors are returned unchanged.
 */
export function storageError(e: unknown, file: string, detail?: string): unknown {
  if (e instanceof StorageError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in REASONS)) return e;
  return new StorageError(`cannot write ${file}${detail ? ` (${detail})` : ''}: ${REASONS[code]} (${code})`, code, file);
}

function writeFileDurable(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) {
      if (bytesWritten + (bytes.length - off) > FAULT.failAfter) {
        bytesWritten = 0; // the failed write's partial file is removed, so the space is free again
        throw Object.assign(new Error(`${FAULT.failCode}: injected by PERTSET_FAULT, write`), { code: FAULT.failCode });
      }
      const n = fs.writeSync(fd, bytes, off, bytes.length - off);
      off += n;
      bytesWritten += n;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The pid in a temporary's name (`.tmp-<name>-<pid>-...`). */
function ownerPid(file: string, stem: string): number {
  return Number(path.basename(file).slice(stem.length).split('-')[0]);
}

function isOtherLiveProcess(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Leftovers of interrupted writes (`.tmp-`/`.old-` siblings of `target`), without those of running processes. */
function siblings(target: string, prefix: '.tmp' | '.old'): string[] {
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return [];
  const stem = `${prefix}-${path.basename(target)}-`;
  return fs
    .readdirSync(parent)
    .filter((f) => f.startsWith(stem) && !isOtherLiveProcess(ownerPid(f, stem)))
    .map((f) => path.join(parent, f));
}

/** Restores `target` from a directory left aside by an interrupted swap, and removes stale temporaries. */
export function recoverDir(target: string): void {
  if (!fs.existsSync(target)) {
    const old = siblings(target, '.old').sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    if (old.length) fs.renameSync(old[0], target);
  }
  for (const d of [...siblings(target, '.old'), ...siblings(target, '.tmp')]) fs.rmSync(d, { recursive: true, force: true });
}

function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // On a read-only file system there is nothing we could remove anyway.
  }
}

/** Replaces directory `target` by one holding exactly `files` (name → bytes or text), atomically. */
export function writeDirAtomic(target: string, files: Array<[string, Uint8Array | string]>, hooks: AtomicWriteHooks = {}): void {
  const parent = path.dirname(target);
  // Only a missing folder goes through ensureDir (safe under /proc); an existing one reports its own write error below.
  if (!fs.existsSync(parent)) ensureDir(parent, 'checkpoint folder');
  recoverDir(target);
  const tag = `${process.pid}-${Date.now()}-${counter++}`;
  const tmp = path.join(parent, `.tmp-${path.basename(target)}-${tag}`);
  let at = tmp;
  try {
    fs.mkdirSync(tmp);
    for (const [name, data] of files) {
      at = path.join(tmp, name);
      writeFileDurable(at, data);
      hooks.afterFile?.(name);
      if (FAULT.killDuring === path.basename(target)) process.kill(process.pid, 'SIGKILL');
    }
    at = target;
    if (fs.existsSync(target)) {
      const old = path.join(parent, `.old-${path.basename(target)}-${tag}`);
      fs.renameSync(target, old);
      hooks.betweenRenames?.();
      fs.renameSync(tmp, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
    }
  } catch (e) {
    removeQuietly(tmp);
    throw storageError(e, target, at === target ? 'moving it into place' : `writing ${path.basename(at)}`);
  }
}

/** Writes one file atomically (temporary sibling + rename). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${process.pid}-${counter++}`);
  if (!fs.existsSync(path.dirname(file))) ensureDir(path.dirname(file), 'folder');
  try {
    writeFileDurable(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw storageError(e, file);
  }
}
