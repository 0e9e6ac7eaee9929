#!/usr/bin/env node
// Builds the optional native accelerator (kernel/native -> kernel/native/build/Release/pertset_native.node)
// with node-gyp when a C++ toolchain and a BLAS are present. It NEVER fails the build: on any
// problem it prints one line saying why and exits 0, and pertset then runs on plain wasm.
//   PERTSET_NATIVE_BUILD=0   skip the build
//   PERTSET_NATIVE_BUILD=force   rebuild even when the addon is up to date
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const nativeDir = path.join(root, 'kernel', 'native');
const addon = path.join(nativeDir, 'build', 'Release', 'pertset_native.node');
const logFile = path.join(nativeDir, 'build', 'build.log');

function done(line) {
  console.log(`build-native: ${line}`);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return [process.execPath, c];
  if (run('node-gyp', ['--version']).status === 0) return ['node-gyp'];
  return null;
}

function newestSource() {
  const files = ['binding.gyp', 'find-blas.js', ...fs.readdirSync(path.join(nativeDir, 'src')).map((f) => path.join('src', f))];
  return Math.max(...files.map((f) => fs.statSync(path.join(nativeDir, f)).mtimeMs));
}

function loads() {
  const r = run(process.execPath, ['-e', `const a=require(${JSON.stringify(addon)});process.stdout.write(a.info().config)`]);
  return r.status === 0 ? { ok: true, info: r.stdout.trim() } : { ok: false, why: (r.stderr || '').trim().split('\n').find((l) => /Error|cannot|No such/.test(l)) ?? 'load failed' };
}

try {
  const mode = process.env.PERTSET_NATIVE_BUILD ?? '';
  if (['0', 'false', 'off'].includes(mode)) done('skipped (PERTSET_NATIVE_BUILD=0); pertset will use plain wasm');
  if (process.platform === 'win32') done('skipped: no system BLAS on Windows; pertset will use plain wasm');
  if (mode !== 'force' && fs.existsSync(addon) && fs.statSync(addon).mtimeMs >= newestSource()) {
    const l = loads();
    if (l.ok) done(`native accelerator up to date (${l.info.split(' ').slice(0, 2).join(' ')})`);
  }
  const gyp = nodeGyp();
  if (!gyp) done('not built: node-gyp not found (it ships with npm); pertset will use plain wasm');
  const cxx = process.env.CXX || 'c++';
  if (run(cxx, ['--version']).status !== 0) done(`not built: no C++ compiler (${cxx}); install g++ and make; pertset will use plain wasm`);
  if (run('make', ['--version']).status !== 0) done('not built: make not found; pertset will use plain wasm');
  if (process.platform !== 'darwin') {
    const check = run(process.execPath, [path.join(nativeDir, 'find-blas.js'), 'check']);
    const blas = check.status === 0 ? JSON.parse(check.stdout) : { header: null };
    if (!blas.header) done('not built: cblas.h not found (Debian/Ubuntu: apt install libopenblas-dev libopenblas-openmp-dev); pertset will use plain wasm');
  }
  const args = ['rebuild', '--release'];
  // Local Node headers: node-gyp would otherwise try to download them.
  if (!process.env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  const [cmd, ...pre] = gyp;
  const r = run(cmd, [...pre, ...args], { cwd: nativeDir, env: { ...process.env } });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  if (r.status !== 0 || !fs.existsSync(addon)) {
    const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n');
    // The most specific cause first: a missing header or library beats the linker's summary line.
    const err = lines.find((l) => /cannot find|fatal error|No such file|undefined reference|not found/.test(l))
      ?? lines.find((l) => /error|Error/.test(l)) ?? `node-gyp exited ${r.status}`;
    done(`not built: ${err.trim()} (log: ${path.relative(root, logFile)}); pertset will use plain wasm`);
  }
  const l = loads();
  if (!l.ok) done(`built but cannot load: ${l.why}; pertset will use plain wasm`);
  done(`native accelerator built (${l.info.split(' ').slice(0, 2).join(' ')})`);
} catch (e) {
  done(`not built: ${e && e.message ? e.message.split('\n')[0] : e}; pertset will use plain wasm`);
}
