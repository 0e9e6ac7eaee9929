/**
 * One trainer per run folder. Training holds `<run>/run.lock`, created with O_EXCL (`wx`) so that
 * exactly one process gets it, holding its pid, host, start time and command. A second trainer on
 * the same folder is refused with a message naming the holder; a lock whose process is gone
 * (killed, crashed) is taken over and the takeover reported. The lock is released on `release()`
 * and, failing that, when the process exits (also after a second Ctrl-C).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureDir } from '../output-dir';
import { RunLockedError } from '../errors';
import { storageError } from './atomic-dir';

export const LOCK_FILE = 'run.lock';

/** What `run.lock` holds (plain JSON). */
export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** The command line that took the lock, e.g. `pertset train --config mnist_fc_linf --out runs/fc`. */
  command: string;
  /** Distinguishes two locks of one process (a notebook creating a second trainer). */
  token: string;
}

export interface RunLock {
  file: string;
  holder: LockHolder;
  /** The holder of a stale lock that was taken over (its process had ended), if any. */
  tookOver?: LockHolder;
  /** Removes the lock (only if it is still ours). Idempotent. */
  release(): void;
}

/** This process's command line as a user typed it (`pertset train ...` for the CLI). */
export function processCommand(): string {
  const script = process.argv[1] ? path.basename(process.argv[1]).replace(/\.js$/, '') : 'node';
  return [script, ...process.argv.slice(2)].join(' ');
}

function readHolder(file: string): LockHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) ? h : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Whether the holder's process still runs. On another host we cannot tell, so it counts as running. */
function holderRunning(h: LockHolder): boolean {
  if (h.hostname !== os.hostname()) return true;
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(h: LockHolder): string {
  return `\`${h.command}\` (pid ${h.pid} on ${h.hostname}, since ${h.startedAt})`;
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Takes the lock of `runDir` (creating the folder), or throws `RunLockedError` naming the process
 * that holds it. A lock of this same process is taken over (a notebook re-creating its trainer).
 */
export function lockRunDir(runDir: string, command = processCommand()): RunLock {
  const dir = path.resolve(runDir);
  const file = path.join(dir, LOCK_FILE);
  if (!fs.existsSync(dir)) ensureDir(dir, 'run folder');
  const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), command, token: randomUUID() };
  let tookOver: LockHolder | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify(holder));
      fs.closeSync(fd);
      return ownLock(file, holder, tookOver);
    } catch (e) {
      if (fd !== undefined) {
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
      }
      const code = (e as NodeJS.ErrnoException).code;
      // An existing folder that refuses new entries (/proc/self): ensureDir's check names it.
      if (code === 'ENOENT') ensureDir(dir, 'run folder');
      if (code !== 'EEXIST') throw storageError(e, file, 'the run lock');
    }
    const current = readHolder(file);
    if (current === 'missing') continue;
    if (current === 'unreadable') {
      // Being written by another process this very moment, or left half-written by a crash.
      if (ageMs(file) < 10_000) throw new RunLockedError(`${dir} is being opened by another process (${file} was just created); try again in a moment`);
    } else if (holderRunning(current)) {
      throw new RunLockedError(
        `${dir} is in use by ${describe(current)}; wait for it to finish or stop it (kill -INT ${current.pid}), or train into another --out. (${file} holds the lock.)`,
      );
    }
    // Stale: move it aside atomically, and make sure what we moved is the lock we judged stale.
    const aside = `${file}.stale-${process.pid}-${attempt}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw storageError(e, file, 'the run lock');
    }
    const moved = readHolder(aside);
    const same = current === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.token === current.token;
    if (same) {
      if (typeof current === 'object') tookOver = current;
      fs.rmSync(aside, { force: true });
      continue;
    }
    // Another process took the lock meanwhile: put its lock back (link fails rather than overwrite).
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process holds it now; ours is refused below either way.
    }
    fs.rmSync(aside, { force: true });
  }
  const last = readHolder(file);
  throw new RunLockedError(`${dir} is in use${typeof last === 'object' ? ` by ${describe(last)}` : ''}; could not take ${file}`);
}

function ownLock(file: string, holder: LockHolder, tookOver: LockHolder | undefined): RunLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readHolder(file);
    try {
      if (typeof current === 'object' && current.token === holder.token) fs.rmSync(file, { force: true });
    } catch {
      // A read-only folder keeps the lock file; the next trainer sees that this process ended.
    }
  };
  process.on('exit', release);
  return { file, holder, tookOver, release };
}
