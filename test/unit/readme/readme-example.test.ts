/**
 * The README's API example must stay true: extract its TypeScript block, type-check it against
 * our compiled declarations, run it, and check what it prints.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as ts from 'typescript';
import { REPO_ROOT } from '../../helpers/env';

function readmeExample(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const m = readme.match(/## The API\s+```ts\n([\s\S]*?)```/);
  assert.ok(m, 'README.md has a ```ts block under "## The API"');
  return m[1];
}

test('the README API example type-checks and runs', () => {
  const api = path.join(REPO_ROOT, 'dist', 'kernel', 'api');
  const body = readmeExample().replace(/from 'pertset';.*$/m, `from ${JSON.stringify(api)};`);
  const lines = body.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const rest = lines.filter((l) => !l.startsWith('import '));
  const source = `${imports.join('\n')}\nasync function main() {\n${rest.join('\n')}\n  console.log('SHAPE ' + JSON.stringify(samples.shape));\n}\nmain().catch((e) => { console.error(e); process.exit(1); });\n`;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-readme-'));
  const file = path.join(dir, 'example.ts');
  fs.writeFileSync(file, source);
  const options: ts.CompilerOptions = {
    strict: true, esModuleInterop: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS, outDir: dir, types: ['node'], typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
  };
  const program = ts.createProgram([file], options);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(diagnostics, [], 'README example has type errors');
  program.emit();

  const r = spawnSync(process.execPath, [path.join(dir, 'example.js')], {
    encoding: 'utf8', cwd: dir, env: { ...process.env, PERTSET_BACKEND: 'wasm' }, timeout: 300_000,
  });
  assert.equal(r.status, 0, `example failed:\n${r.stderr}`);
  for (const key of ['encoderAE', 'pgdAE', 'expectedAE', 'overAE', 'kl', 'recon', 'identityError', 'entropyFloor', 'radius']) {
    assert.match(r.stdout, new RegExp(`${key}: [0-9.]+`), `report prints ${key}`);
  }
  assert.match(r.stdout, /mse: \{\s*encoderAE: [0-9.]+/, 'report prints the MSE block');
  assert.match(r.stdout, /SHAPE \[8,28,28,1\]/);
  fs.rmSync(dir, { recursive: true, force: true });
});
