#!/usr/bin/env node
// Bundles the VS Code extension host code (extension/extension.ts) into extension/out/extension.js
// (CommonJS; `vscode` is provided by VS Code, `zeromq` stays external because of its native addon).
// Type-checks first (esbuild does not); pass --no-check to skip. Works offline.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'extension', 'out', 'extension.js');
const webOutfile = path.join(root, 'extension', 'out', 'web-extension.js');

if (!process.argv.includes('--no-check')) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'extension', 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build-extension: type errors in extension/ (see above)');
    process.exit(1);
  }
}

for (const f of [outfile, `${outfile}.map`, webOutfile, `${webOutfile}.map`]) fs.rmSync(f, { force: true });
const started = Date.now();
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['extension/extension.ts'],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode', 'zeromq'],
  sourcemap: 'linked',
  // In the packaged extension zeromq lives in the bundled kernel's node_modules (shared with the
  // kernel process); in a development checkout Node finds it in the repository's node_modules.
  banner: { js: "module.paths.push(require('path').join(__dirname, '..', 'kernel', 'node_modules'));" },
  logLevel: 'warning',
});
// The browser entry (VS Code for the Web): renderers only, no kernel.
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['extension/web-extension.ts'],
  outfile: webOutfile,
  bundle: true,
  format: 'cjs',
  platform: 'browser',
  target: 'es2022',
  external: ['vscode'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
console.log(`build-extension: ${path.relative(root, outfile)} ${(fs.statSync(outfile).size / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
