#!/usr/bin/env node
// Bundles the notebook renderers (renderers/<name>/index.ts) into ES modules under
// extension/out/renderers/, with plotly.js-dist split into a lazily imported chunk.
// Type-checks first (esbuild does not); pass --no-check to skip. Works offline.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'extension', 'out', 'renderers');
const RENDERER_ENTRIES = ['image-grid', 'latent-traversal', 'plotly'];

if (!process.argv.includes('--no-check')) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'renderers', 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build-renderers: type errors in renderers/ (see above)');
    process.exit(1);
  }
}

// esbuild never cleans its outdir: stale chunks would end up in the .vsix.
fs.rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(RENDERER_ENTRIES.map((name) => [name, `renderers/${name}/index.ts`])),
  outdir,
  bundle: true,
  format: 'esm',
  splitting: true,
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
for (const [file, info] of outputs) console.log(`  ${path.relative(root, file)}  ${(info.bytes / 1024).toFixed(0)} KiB`);
console.log(`build-renderers: ${outputs.length} files in ${Date.now() - started} ms`);
