/**
 * Writing a directory so that readers only ever see a complete one. Files go into a hidden
 * temporary sibling (`.tmp-<name>-*`), are flushed to disk, and the directory is then renamed
 * into place. An existing directory is first renamed aside (`.old-<name>-*`) and removed after
 * the swap. A crash while writing leaves the previous directory untouched; a crash between the
 * two renames leaves `.old-<name>-*`, which `recoverDir` (called before every read and write)
 * renames back.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Test-only fault injection: throw from `afterFile` to simulate a crash mid-write. */
export interface AtomicWriteHooks {
  afterFile?(name: string): void;
  /** Called after the old directory was moved aside and before the new one is moved in. */
  betweenRenames?(): void;
}

let counter = 0;

function writeFileDurable(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function siblings(target: string, prefix: '.tmp' | '.old'): string[] {
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return [];
  const stem = `${prefix}-${path.basename(target)}-`;
  return fs
    .readdirSync(parent)
    .filter((f) => f.startsWith(stem))
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

/** Replaces directory `target` by one holding exactly `files` (name → bytes or text), atomically. */
export function writeDirAtomic(target: string, files: Array<[string, Uint8Array | string]>, hooks: AtomicWriteHooks = {}): void {
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  recoverDir(target);
  const tag = `${process.pid}-${Date.now()}-${counter++}`;
  const tmp = path.join(parent, `.tmp-${path.basename(target)}-${tag}`);
  fs.mkdirSync(tmp);
  for (const [name, data] of files) {
    writeFileDurable(path.join(tmp, name), data);
    hooks.afterFile?.(name);
  }
  if (fs.existsSync(target)) {
    const old = path.join(parent, `.old-${path.basename(target)}-${tag}`);
    fs.renameSync(target, old);
    hooks.betweenRenames?.();
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, target);
  }
}

/** Writes one file atomically (temporary sibling + rename). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${process.pid}-${counter++}`);
  writeFileDurable(tmp, data);
  fs.renameSync(tmp, file);
}
