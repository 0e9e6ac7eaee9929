#!/usr/bin/env node
// Prints compiler or linker flags for the system OpenBLAS (used by binding.gyp):
//   node find-blas.js cflags | libs | check
// Order: PERTSET_BLAS_CFLAGS / PERTSET_BLAS_LIBS, then pkg-config (openblas), then plain -lopenblas.
// The library directory is also baked in as an rpath so that, on Debian, the OpenMP flavour we
// compiled against is the one loaded (the libopenblas.so.0 alternative may point elsewhere).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');

function pkgConfig(args) {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function flags() {
  if (process.env.PERTSET_BLAS_CFLAGS !== undefined || process.env.PERTSET_BLAS_LIBS !== undefined) {
    return { cflags: process.env.PERTSET_BLAS_CFLAGS ?? '', libs: process.env.PERTSET_BLAS_LIBS ?? '-lopenblas', via: 'env' };
  }
  for (const name of ['openblas', 'openblas-openmp', 'openblas-pthread']) {
    const libs = pkgConfig(['--libs', name]);
    if (libs) {
      const cflags = pkgConfig(['--cflags', name]) ?? '';
      const rpaths = libs.split(/\s+/).filter((f) => f.startsWith('-L')).map((f) => `-Wl,-rpath,${f.slice(2)}`);
      return { cflags, libs: [libs, ...rpaths].join(' '), via: `pkg-config ${name}` };
    }
  }
  return { cflags: '', libs: '-lopenblas', via: 'default -lopenblas' };
}

// A header check so build-native.mjs can say "cblas.h not found" instead of a compiler error.
function findHeader(cflags) {
  const dirs = cflags.split(/\s+/).filter((f) => f.startsWith('-I')).map((f) => f.slice(2));
  dirs.push('/usr/include', '/usr/local/include', '/usr/include/openblas', '/opt/homebrew/opt/openblas/include');
  try {
    const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (multiarch) dirs.push(`/usr/include/${multiarch}`);
  } catch { /* no gcc: the build step reports it */ }
  return dirs.map((d) => `${d.replace(/\/$/, '')}/cblas.h`).find((p) => fs.existsSync(p)) ?? null;
}

const what = process.argv[2];
const f = flags();
if (what === 'cflags') process.stdout.write(f.cflags);
else if (what === 'libs') process.stdout.write(f.libs);
else if (what === 'check') {
  const header = process.platform === 'darwin' ? 'Accelerate' : findHeader(f.cflags);
  process.stdout.write(JSON.stringify({ ...f, header }) + '\n');
} else {
  process.stderr.write('usage: node find-blas.js cflags|libs|check\n');
  process.exit(2);
}
