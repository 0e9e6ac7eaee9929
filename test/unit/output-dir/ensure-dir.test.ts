/**
 * `ensureDir`, the one place that creates output folders: nested creation, idempotence, no
 * leftovers from its write probe, and errors that name the folder (never a hang).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OutputDirError } from '../../../kernel/api/errors';
import { ensureDir } from '../../../kernel/api/output-dir';
import { DEPENDENCIES, need } from '../../helpers/env';

test('creates missing parents, returns the absolute path, and leaves nothing else behind', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-ensure-'));
  const rel = path.relative(process.cwd(), path.join(root, 'a', 'b', 'c'));
  assert.equal(ensureDir(rel, 'run folder'), path.join(root, 'a', 'b', 'c'));
  assert.ok(fs.statSync(path.join(root, 'a', 'b', 'c')).isDirectory());
  assert.deepEqual(fs.readdirSync(path.join(root, 'a', 'b', 'c')), []);
  fs.writeFileSync(path.join(root, 'a', 'keep'), 'x');
  assert.equal(ensureDir(path.join(root, 'a'), 'run folder'), path.join(root, 'a'));
  assert.deepEqual(fs.readdirSync(path.join(root, 'a')).sort(), ['b', 'keep']);
});

test('refuses a path below a file, naming the file', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-ensure-'));
  fs.writeFileSync(path.join(root, 'f'), 'x');
  assert.throws(() => ensureDir(path.join(root, 'f', 'x', 'y'), 'data cache'),
    (e: unknown) => e instanceof OutputDirError && (e as Error).message === `cannot create the data cache ${root}/f/x/y: ${root}/f exists and is not a folder`);
});

test('refuses /proc instead of looping like fs.mkdirSync(recursive)', (t) => {
  if (!need(t, DEPENDENCIES.procFs)) return;
  assert.throws(() => ensureDir('/proc/pertset/x', 'run folder'),
    (e: unknown) => e instanceof OutputDirError && /^cannot create the run folder \/proc\/pertset\/x: \/proc exists but refuses new folders/.test((e as Error).message));
});
