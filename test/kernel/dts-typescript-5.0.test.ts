/**
 * tslab type-checks notebook cells with its TypeScript 5.0 fork, reading our compiled .d.ts. This
 * checks every declaration file of the package with that compiler and tslab's options, in the
 * setting of a notebook folder without node_modules (tslab's own @types/node), and reports
 * errors in our files only (not in tfjs or @types).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/env';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('@tslab/typescript-for-tslab') as typeof import('@tslab/typescript-for-tslab');

function declarationFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) declarationFiles(p, out);
    else if (e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

test('every .d.ts of the API and kernel is valid for TypeScript 5.0 (tslab)', () => {
  assert.equal(ts.version, '5.0.4');
  const apiDir = path.join(REPO_ROOT, 'dist', 'kernel');
  const files = declarationFiles(apiDir);
  assert.ok(files.length > 20, `expected the compiled declarations under ${apiDir}`);
  const tslabTypes = path.join(path.dirname(require.resolve('tslab/package.json')), 'node_modules', '@types');
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    typeRoots: [tslabTypes],
    types: ['node'],
  });
  const own = program.getSourceFiles().filter((sf) => sf.fileName.startsWith(apiDir.split(path.sep).join('/')));
  assert.equal(own.length, files.length);
  const problems = own.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const file = d.file ? path.relative(REPO_ROOT, d.file.fileName) : '?';
    return `${file}:${where ? where.line + 1 : '?'} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
  assert.deepEqual(problems, [], `TypeScript 5.0 rejects these declarations:\n${problems.join('\n')}`);
});
