/**
 * `scripts/package-extension.mjs` builds a .vsix that contains the renderer bundles (and every
 * chunk they import), the extension code, the kernel launcher with its runtime, and a
 * package.json whose contributions point at files in the package. The kernel shipped inside is
 * then extracted alone (no repository node_modules above it) and must run a cell.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelSession } from '../../kernel/jupyter/client';
import { STDOUT_MIME, CellOutputBuilder } from '../../kernel/jupyter/client';
import { REPO_ROOT } from '../helpers/env';
import { requireLauncher } from './kernel-under-test';

// yauzl comes with @vscode/vsce (a devDependency); it has no bundled types.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const yauzl = require('yauzl') as {
  open(file: string, opts: { lazyEntries: boolean }, cb: (err: Error | null, zip: ZipFile) => void): void;
};
interface ZipEntry { fileName: string }
interface ZipFile {
  readEntry(): void;
  openReadStream(entry: ZipEntry, cb: (err: Error | null, stream: NodeJS.ReadableStream) => void): void;
  on(event: 'entry', cb: (e: ZipEntry) => void): void;
  on(event: 'end' | 'close', cb: () => void): void;
  on(event: 'error', cb: (e: Error) => void): void;
  close(): void;
}

/** Reads every entry; `extract` decides which entries to write below `dir` (path without "extension/"). */
function readVsix(file: string, dir: string, extract: (name: string) => boolean): Promise<{ names: string[]; texts: Map<string, string> }> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    const texts = new Map<string, string>();
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      zip.on('error', reject);
      zip.on('end', () => resolve({ names, texts }));
      zip.on('entry', (entry) => {
        names.push(entry.fileName);
        const rel = entry.fileName.replace(/^extension\//, '');
        const wantText = /^extension\/(package\.json|out\/renderers\/[^/]+\.js)$/.test(entry.fileName);
        if (entry.fileName.endsWith('/') || (!wantText && !extract(rel))) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            const data = Buffer.concat(chunks);
            if (wantText) texts.set(entry.fileName, data.toString('utf8'));
            if (extract(rel)) {
              fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
              fs.writeFileSync(path.join(dir, rel), data);
            }
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}


describe('the packaged .vsix', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-vsix-test-'));
  const vsix = path.join(work, 'pertset.vsix');
  const unpacked = path.join(work, 'unpacked');
  let names: string[] = [];
  let texts = new Map<string, string>();
  let manifest: Record<string, any>;

  before(async () => {
    requireLauncher();
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package-extension.mjs'), '--out', vsix], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `package-extension failed:\n${r.stdout}\n${r.stderr}`);
    ({ names, texts } = await readVsix(vsix, unpacked, (rel) => rel.startsWith('kernel/')));
    manifest = JSON.parse(texts.get('extension/package.json')!);
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  const has = (rel: string): boolean => names.includes(`extension/${rel.replace(/^\.\//, '')}`);

  it('has a manifest whose main, renderer entrypoints and their chunks exist in the package', () => {
    assert.equal(manifest.publisher, 'pertset');
    assert.ok(has(manifest.main), `main ${manifest.main}`);
    assert.ok(has(manifest.browser), `browser ${manifest.browser}`);
    const renderers = manifest.contributes.notebookRenderer as Array<{ id: string; entrypoint: string; mimeTypes: string[]; requiresMessaging: string }>;
    assert.deepEqual(renderers.flatMap((r) => r.mimeTypes).sort(), [
      'application/vnd.pertset.image-grid+json', 'application/vnd.pertset.latent-traversal+json', 'application/vnd.plotly.v1+json',
    ]);
    for (const r of renderers) {
      assert.ok(has(r.entrypoint), `${r.id} entrypoint ${r.entrypoint} is not in the package`);
      assert.equal(r.requiresMessaging, 'optional');
      // Every chunk the entry imports (statically or lazily) is packaged too.
      const code = texts.get(`extension/${r.entrypoint.replace(/^\.\//, '')}`)!;
      const imports = [...code.matchAll(/(?:from|import\()\s*["'](\.\/[^"']+)["']/g)].map((m) => m[1]);
      assert.ok(imports.length > 0, `${r.entrypoint} imports no chunks`);
      for (const spec of imports) assert.ok(has(path.posix.join('out/renderers', spec)), `${r.entrypoint} imports missing ${spec}`);
    }
    assert.ok(names.some((n) => /out\/renderers\/chunks\/plotly-[^/]+\.js$/.test(n)), 'the lazy plotly chunk');
    for (const c of manifest.contributes.commands) assert.match(c.command, /^pertset\./);
    assert.ok(manifest.contributes.commands.some((c: { title: string }) => c.title === 'Register Jupyter kernel'));
  });

  it('contains the kernel launcher and its runtime, pruned, for this platform only', () => {
    assert.ok(has('kernel/dist/kernel/jupyter/launcher.js'));
    assert.ok(has('kernel/node_modules/tslab/package.json'));
    assert.ok(has('kernel/node_modules/@tensorflow/tfjs-core/dist/index.d.ts'), 'type declarations for typed cells');
    assert.ok(names.some((n) => n.startsWith(`extension/kernel/node_modules/zeromq/build/${process.platform}/${process.arch}/`)), 'zeromq addon');
    const other = process.platform === 'linux' ? 'win32' : 'linux';
    assert.equal(names.filter((n) => n.includes(`zeromq/build/${other}/`)).length, 0);
    assert.equal(names.filter((n) => n.endsWith('.map')).length, 0);
    assert.equal(names.filter((n) => /\.ts$/.test(n) && !n.endsWith('.d.ts')).length, 0, 'no TypeScript sources');
  });

  it('runs a cell on the kernel extracted from the package alone', async () => {
    const launcher = path.join(unpacked, 'kernel', 'dist', 'kernel', 'jupyter', 'launcher.js');
    const cwd = fs.mkdtempSync(path.join(work, 'nb-'));
    const session = await KernelSession.start({ argv: [process.execPath, launcher, '--config-path', '{connection_file}'], cwd });
    try {
      const builder = new CellOutputBuilder();
      // The preloaded API (tfjs and all) must load from inside the package.
      const r = await session.execute('console.log(typeof pertset.display.imageGrid, 6 * 7);', { onIopub: (m) => builder.apply(m) });
      const out = builder.outputs.flatMap((o) => o.items).map((i) => Buffer.from(i.data).toString());
      assert.equal(r.status, 'ok', out.join('\n'));
      assert.deepEqual(builder.outputs.flatMap((o) => o.items).filter((i) => i.mime === STDOUT_MIME).map((i) => Buffer.from(i.data).toString()), ['function 42\n']);
    } finally {
      await session.shutdown();
    }
  });
});
