/** Which launcher and Node the controller uses, and the kernelspec "Register Jupyter kernel" writes. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernelArgv, locateKernel, nodeCommand, LAUNCHER_IN_PACKAGE } from '../../extension/kernel-locator';
import { extensionKernelSpec, KERNEL_NAME, writeKernelSpec } from '../../extension/kernelspec';
import { KernelStartError } from '../../kernel/jupyter/client';

function touch(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  return file;
}

describe('kernel location and registration', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-locator-'));
  const ext = path.join(root, 'repo', 'extension');
  fs.mkdirSync(ext, { recursive: true });

  it('prefers the setting, then the bundled kernel, then a development checkout', () => {
    assert.throws(() => locateKernel(ext), (e: Error) => e instanceof KernelStartError && /no pertset kernel launcher found/.test(e.message) && e.message.includes('pertset.kernelPath'));
    const dev = touch(path.join(root, 'repo', LAUNCHER_IN_PACKAGE));
    assert.deepEqual(locateKernel(ext), { launcher: dev, source: 'development checkout' });
    const bundled = touch(path.join(ext, 'kernel', LAUNCHER_IN_PACKAGE));
    assert.deepEqual(locateKernel(ext), { launcher: bundled, source: 'bundled with the extension' });
    const custom = touch(path.join(root, 'elsewhere', 'launcher.js'));
    assert.deepEqual(locateKernel(ext, ` ${custom} `), { launcher: custom, source: 'setting pertset.kernelPath' });
    assert.throws(() => locateKernel(ext, path.join(root, 'missing.js')), /pertset\.kernelPath points at .*missing\.js, which does not exist/);
  });

  it('runs the kernel on VS Code\'s own runtime as Node unless a Node path is set', () => {
    assert.deepEqual(nodeCommand(undefined, '/opt/code/code', { PATH: '/bin' }), { node: '/opt/code/code', env: { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1' } });
    assert.deepEqual(nodeCommand('/usr/bin/node', '/opt/code/code', { PATH: '/bin' }), { node: '/usr/bin/node', env: { PATH: '/bin' } });
    assert.deepEqual(kernelArgv('/usr/bin/node', '/k/launcher.js'), ['/usr/bin/node', '/k/launcher.js', '--config-path', '{connection_file}']);
  });

  it('writes a kernelspec with absolute paths where Jupyter looks for user kernels', () => {
    const dataDir = path.join(root, 'jupyter');
    const dir = writeKernelSpec(extensionKernelSpec('/opt/code/code', '/k/launcher.js', { ELECTRON_RUN_AS_NODE: '1' }), dataDir);
    assert.equal(dir, path.join(dataDir, 'kernels', KERNEL_NAME));
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'kernel.json'), 'utf8'));
    assert.deepEqual(spec.argv, ['/opt/code/code', '/k/launcher.js', '--config-path', '{connection_file}']);
    assert.equal(spec.language, 'typescript');
    assert.equal(spec.interrupt_mode, 'signal');
    assert.deepEqual(spec.env, { ELECTRON_RUN_AS_NODE: '1' });
    fs.rmSync(root, { recursive: true, force: true });
  });
});
