#!/usr/bin/env node
// Packages the VS Code extension into a platform .vsix (offline):
//   out/extension.js + out/renderers/ (from build:extension / build:renderers), package.json,
//   README.md, LICENSE, and the kernel: a copy of the pertset runtime (dist/kernel, configs,
//   assets, native addon) with its production node_modules, pruned of what Node never loads
//   (source maps, browser bundles, other platforms' zeromq addons, TypeScript's server).
// Usage: node scripts/package-extension.mjs [--out FILE.vsix] [--keep-stage]
// The kernel's native zeromq addon makes the package platform-specific (vsce --target).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extDir = path.join(root, 'extension');
const manifest = JSON.parse(fs.readFileSync(path.join(extDir, 'package.json'), 'utf8'));
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const outFile = path.resolve(arg('--out') ?? path.join(extDir, 'out', `${manifest.name}-${manifest.version}-${target}.vsix`));

function fail(msg) {
  console.error(`package-extension: ${msg}`);
  process.exit(1);
}

const launcher = path.join(root, 'dist', 'kernel', 'jupyter', 'launcher.js');
for (const [file, how] of [
  [path.join(extDir, 'out', 'extension.js'), 'npm run build:extension'],
  [path.join(extDir, 'out', 'renderers', 'image-grid.js'), 'npm run build:renderers'],
  [launcher, 'npm run build:ts (the kernel launcher)'],
]) {
  if (!fs.existsSync(file)) fail(`${path.relative(root, file)} is missing; run \`${how}\` first`);
}

const started = Date.now();
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-vsix-'));
let files = 0;
let bytes = 0;

function copyFile(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
  files++;
  bytes += fs.statSync(src).size;
}

/** Copies `src` into `dst` recursively, keeping files for which keep(relativePath) is true. */
function copyTree(src, dst, keep = () => true, rel = '') {
  for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) copyTree(src, dst, keep, r);
    else if ((e.isFile() || e.isSymbolicLink()) && keep(r)) copyFile(path.join(src, r), path.join(dst, r));
  }
}

// --- the extension itself
for (const f of ['package.json', 'README.md', 'LICENSE']) copyFile(path.join(extDir, f), path.join(stage, f));
for (const f of ['extension.js', 'web-extension.js']) copyFile(path.join(extDir, 'out', f), path.join(stage, 'out', f));
copyTree(path.join(extDir, 'out', 'renderers'), path.join(stage, 'out', 'renderers'), (r) => !r.endsWith('.map'));
// vsce skips the top-level node_modules with --no-dependencies; the kernel's own is kept.
fs.writeFileSync(path.join(stage, '.vscodeignore'), '**/*.map\n**/*.tsbuildinfo\n');

// --- the kernel: the pertset runtime
const kernelDir = path.join(stage, 'kernel');
const { name, version, description, license, main, types, dependencies } = rootPkg;
fs.mkdirSync(kernelDir, { recursive: true });
fs.writeFileSync(path.join(kernelDir, 'package.json'), JSON.stringify({ name, version, description, license, main, types, dependencies }, null, 2));
copyTree(path.join(root, 'dist', 'kernel'), path.join(kernelDir, 'dist', 'kernel'), (r) => !r.endsWith('.map'));
for (const dir of ['kernel/configs', 'kernel/assets']) {
  if (fs.existsSync(path.join(root, dir))) copyTree(path.join(root, dir), path.join(kernelDir, dir));
}
const nativeBuild = path.join(root, 'kernel', 'native', 'build', 'Release');
if (fs.existsSync(nativeBuild)) copyTree(nativeBuild, path.join(kernelDir, 'kernel', 'native', 'build', 'Release'), (r) => r.endsWith('.node'));

// --- its production dependencies, pruned
const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
const packageDirs = ls.stdout.split('\n').map((l) => l.trim()).filter((l) => l && l !== root && fs.existsSync(l));
if (packageDirs.length === 0) fail(`\`npm ls --omit=dev\` listed no production dependencies:\n${ls.stderr}`);

// Source maps, docs, browser bundles and TypeScript sources (declarations .d.ts are kept: cells are type-checked).
const dropEverywhere = /(\.map|\.md|\.markdown|\.min\.js|\.es2017\.js|\.fesm\.js|\.html|\.tsbuildinfo|(?<!\.d)\.[mc]?ts)$|(^|\/)(miniprogram|\.github)\//i;
function keeper(pkgName, pkgJson) {
  if (pkgName.startsWith('@tensorflow/')) {
    // Node loads only the CommonJS `main` bundle; the other dist/*.js are ES modules for bundlers.
    const mainFile = path.posix.normalize(pkgJson.main ?? 'index.js');
    return (r) => r === 'package.json' || /^LICENSE/i.test(r) || r === mainFile || r.endsWith('.d.ts') || r.endsWith('.wasm') || r.startsWith('wasm-out/');
  }
  if (pkgName === '@tslab/typescript-for-tslab') {
    return (r) => r === 'package.json' || /^LICENSE/i.test(r) || r === 'lib/typescript.js' || /^lib\/lib\.[^/]*\.d\.ts$/.test(r);
  }
  if (pkgName === 'zeromq') {
    // Keep only this platform's prebuilt addons (cmake-ts loads build/<platform>/<arch>/...).
    return (r) => !r.startsWith('build/') || r === 'build/manifest.json' || r.startsWith(`build/${process.platform}/${process.arch}/`);
  }
  if (pkgName.startsWith('@stdlib/')) {
    // Node loads lib/ (the CommonJS `main`); dist/ holds browser bundles, src/ and include/ C sources.
    return (r) => r === 'package.json' || /^(LICENSE|NOTICE)/i.test(r) || r.startsWith('lib/') || r.endsWith('.d.ts');
  }
  return () => true;
}

// Polyfills for browsers, loaded only by tfjs's index_with_polyfills entry, never in Node.
const dropPackages = new Set(['core-js', 'regenerator-runtime']);

for (const dir of packageDirs) {
  const rel = path.relative(root, dir);
  const pkgJson = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (dropPackages.has(pkgJson.name)) continue;
  const keep = keeper(pkgJson.name ?? '', pkgJson);
  copyTree(dir, path.join(kernelDir, rel), (r) => !r.startsWith('node_modules/') && (r === 'package.json' || !dropEverywhere.test(r)) && keep(r));
}
console.log(`package-extension: staged ${files} files, ${(bytes / 1048576).toFixed(1)} MiB (${packageDirs.length} packages) in ${Date.now() - started} ms`);

// --- vsce
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.rmSync(outFile, { force: true });
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--out', outFile], {
  cwd: stage, stdio: ['ignore', 'inherit', 'inherit'],
});
if (!process.argv.includes('--keep-stage')) fs.rmSync(stage, { recursive: true, force: true });
else console.log(`package-extension: stage kept at ${stage}`);
if (r.status !== 0 || !fs.existsSync(outFile)) fail('vsce package failed (see above)');
console.log(`package-extension: ${path.relative(root, outFile)} ${(fs.statSync(outFile).size / 1048576).toFixed(1)} MiB, ${Date.now() - started} ms`);
