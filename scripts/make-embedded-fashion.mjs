#!/usr/bin/env node
// Regenerates the embedded Fashion-MNIST subset in kernel/assets/fashion-mnist-subset/ from
// Debian's `dataset-fashion-mnist` package (apt-get install dataset-fashion-mnist):
// the first 4000 training and first 1000 test images, with their labels, as gzipped IDX
// (gzip level 9, no name, mtime 0), and a SOURCE.md with the package version and sha256 of
// every file. Usage: node scripts/make-embedded-fashion.mjs [--src DIR] [--train N] [--test N]
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({
  options: {
    src: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    train: { type: 'string', default: '4000' },
    test: { type: 'string', default: '1000' },
  },
});
const out = path.join(root, 'kernel', 'assets', 'fashion-mnist-subset');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

function debianVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dataset-fashion-mnist'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown (dpkg-query failed)';
  }
}

// Header (magic + big-endian sizes) of an IDX file with its first dimension cut to `n`.
function takeFirst(raw, n, file) {
  const ndim = raw[3];
  const dims = [];
  for (let d = 0; d < ndim; d++) dims.push(raw.readUInt32BE(4 + 4 * d));
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 8) throw new Error(`${file}: not a uint8 IDX file`);
  if (n > dims[0]) throw new Error(`${file}: has ${dims[0]} items, asked for ${n}`);
  const itemBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = Buffer.from(raw.subarray(0, 4 + 4 * ndim));
  header.writeUInt32BE(n, 4);
  return Buffer.concat([header, raw.subarray(4 + 4 * ndim, 4 + 4 * ndim + n * itemBytes)]);
}

fs.mkdirSync(out, { recursive: true });
const jobs = [
  ['train-images-idx3-ubyte', Number(values.train)],
  ['train-labels-idx1-ubyte', Number(values.train)],
  ['t10k-images-idx3-ubyte', Number(values.test)],
  ['t10k-labels-idx1-ubyte', Number(values.test)],
];
const rows = [];
for (const [name, n] of jobs) {
  const srcFile = path.join(values.src, `${name}.gz`);
  const srcGz = fs.readFileSync(srcFile);
  const srcRaw = zlib.gunzipSync(srcGz);
  const subset = takeFirst(srcRaw, n, srcFile);
  const gz = zlib.gzipSync(subset, { level: 9 }); // Node writes no name and mtime 0: reproducible bytes.
  fs.writeFileSync(path.join(out, `${name}.gz`), gz);
  rows.push(`| ${name}.gz | ${n} | ${gz.length} | ${sha(gz)} | ${subset.length} | ${sha(subset)} | ${sha(srcRaw)} |`);
  console.log(`${name}.gz: ${n} items, ${gz.length} bytes`);
}

const copyright = fs.existsSync('/usr/share/doc/dataset-fashion-mnist/copyright')
  ? fs.readFileSync('/usr/share/doc/dataset-fashion-mnist/copyright', 'utf8')
  : '(copyright file of the Debian package not found)';
fs.writeFileSync(
  path.join(out, 'SOURCE.md'),
  `# Embedded Fashion-MNIST subset

The default dataset of \`pertset\` when no other data is found: the **first ${values.train} training
and first ${values.test} test images** (with labels, original order) of Fashion-MNIST, as gzipped IDX.

- Source: Debian package \`dataset-fashion-mnist\` version ${debianVersion()}, files
  \`${values.src}/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz\`
  (upstream https://github.com/zalandoresearch/fashion-mnist).
- Regenerate: \`node scripts/make-embedded-fashion.mjs\` (requires that package).
- Licence: MIT (Expat), Copyright 2017 Zalando SE. Full text in \`LICENSE\` (from the Debian package's copyright file).

| file | items | bytes (gz) | sha256 (gz file) | raw bytes | raw sha256 | raw sha256 of the full source file |
|---|---|---|---|---|---|---|
${rows.join('\n')}

The gz bytes depend on the zlib version; the raw sha256 is the stable check.
`,
);
fs.writeFileSync(
  path.join(out, 'LICENSE'),
  `Fashion-MNIST subset embedded in pertset. Data: Copyright 2017 Zalando SE (https://github.com/zalandoresearch/fashion-mnist).
Licensed under the MIT (Expat) licence, as stated in Debian's dataset-fashion-mnist copyright file, reproduced here:

${copyright}`,
);
console.log(`wrote ${out}`);
