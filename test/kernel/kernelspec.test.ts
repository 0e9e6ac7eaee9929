import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { REPO_ROOT } from '../helpers/env';
import { installKernelSpec, listKernelSpecs, uninstallKernelSpec, userDataDir, dataDirOf } from '../../kernel/jupyter/kernelspec';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-kernelspec-'));
}

const CLI = path.join(REPO_ROOT, 'bin', 'pertset.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

test('install writes kernel.json with absolute node and launcher paths', () => {
  const dir = tempDir();
  const specDir = installKernelSpec({ jupyterPath: dir });
  assert.equal(specDir, path.join(dir, 'kernels', 'pertset'));
  const spec = JSON.parse(fs.readFileSync(path.join(specDir, 'kernel.json'), 'utf8'));
  assert.equal(spec.display_name, 'TypeScript (Perturbation Sets)');
  assert.equal(spec.language, 'typescript');
  assert.equal(spec.interrupt_mode, 'signal');
  assert.deepEqual(spec.argv.slice(2), ['--config-path', '{connection_file}']);
  assert.equal(spec.argv[0], process.execPath);
  assert.ok(path.isAbsolute(spec.argv[1]) && fs.existsSync(spec.argv[1]), spec.argv[1]);
  assert.equal(spec.argv[1], path.join(REPO_ROOT, 'dist', 'kernel', 'jupyter', 'launcher.js'));
  assert.ok(fs.existsSync(path.join(specDir, 'logo-svg.svg')));
  assert.equal(PNG.sync.read(fs.readFileSync(path.join(specDir, 'logo-64x64.png'))).width, 64);
  const listed = listKernelSpecs([dir]);
  assert.deepEqual(listed.map((k) => k.name), ['pertset']);
  assert.equal(uninstallKernelSpec({ jupyterPath: dir }), specDir);
  assert.equal(fs.existsSync(specDir), false);
  assert.equal(uninstallKernelSpec({ jupyterPath: dir }), undefined);
});

test('--prefix installs under DIR/share/jupyter and the user dir follows XDG / JUPYTER_DATA_DIR', () => {
  assert.equal(dataDirOf({ prefix: '/opt/env' }), path.resolve('/opt/env/share/jupyter'));
  assert.equal(userDataDir({ JUPYTER_DATA_DIR: '/j' }, 'linux'), '/j');
  assert.equal(userDataDir({ XDG_DATA_HOME: '/x' }, 'linux'), path.join('/x', 'jupyter'));
  assert.equal(userDataDir({}, 'darwin'), path.join(os.homedir(), 'Library', 'Jupyter'));
});

test('the CLI installs, lists and uninstalls without Python', () => {
  const data = tempDir();
  const install = cli(['kernel', 'install', '--user'], { JUPYTER_DATA_DIR: data, PATH: path.dirname(process.execPath) });
  assert.equal(install.status, 0, install.stderr);
  assert.match(install.stdout, /installed kernelspec "pertset"/);
  assert.ok(fs.existsSync(path.join(data, 'kernels', 'pertset', 'kernel.json')));
  const list = cli(['kernel', 'list'], { JUPYTER_DATA_DIR: data });
  assert.equal(list.status, 0);
  assert.match(list.stdout, new RegExp(`^pertset\\s+${path.join(data, 'kernels', 'pertset').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\(TypeScript \\(Perturbation Sets\\)\\)`, 'm'));
  const prefix = tempDir();
  assert.equal(cli(['kernel', 'install', '--prefix', prefix]).status, 0);
  assert.ok(fs.existsSync(path.join(prefix, 'share', 'jupyter', 'kernels', 'pertset', 'kernel.json')));
  const un = cli(['kernel', 'uninstall', '--user'], { JUPYTER_DATA_DIR: data });
  assert.equal(un.status, 0, un.stderr);
  assert.equal(fs.existsSync(path.join(data, 'kernels', 'pertset')), false);
});

test('the CLI names conflicting or unknown options', () => {
  const both = cli(['kernel', 'install', '--user', '--prefix', '/tmp/x']);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /choose one of --user, --prefix, --jupyter-path \(got --user, --prefix\)/);
  const unknown = cli(['kernel', 'install', '--sys-prefix']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /--sys-prefix/);
  const noAction = cli(['kernel']);
  assert.equal(noAction.status, 1);
  assert.match(noAction.stderr, /expected "install", "uninstall" or "list", got nothing/);
});
