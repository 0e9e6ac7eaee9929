/**
 * Guards the public API: every name `import * as pertset from 'pertset'` exposes (and each
 * namespace's names), with its kind, read from the sources by the TypeScript checker and compared
 * with the committed list in api-surface.txt. A change to the public surface must be deliberate:
 * regenerate the list with
 *     PERTSET_UPDATE_API_SNAPSHOT=1 npm run test:only -- unit/api
 * and commit it together with the change (and the README's API section).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { REPO_ROOT } from '../../helpers/env';

const SNAPSHOT = path.join(REPO_ROOT, 'test', 'unit', 'api', 'api-surface.txt');
/** Namespaces that are other libraries, listed but not expanded. */
const FOREIGN = new Set(['tf']);

function kindOf(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  const s = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = s.flags;
  const kinds: string[] = [];
  if (f & ts.SymbolFlags.Class) kinds.push('class');
  else if (f & ts.SymbolFlags.Function) kinds.push('function');
  else if (f & ts.SymbolFlags.Variable) kinds.push('const');
  else if (f & ts.SymbolFlags.Enum) kinds.push('enum');
  else if (f & ts.SymbolFlags.ValueModule) kinds.push('namespace');
  if (f & ts.SymbolFlags.Interface && !(f & ts.SymbolFlags.Class)) kinds.push('interface');
  if (f & ts.SymbolFlags.TypeAlias) kinds.push('type');
  return kinds.join('+') || 'other';
}

function publicSurface(): string[] {
  const index = path.join(REPO_ROOT, 'kernel', 'api', 'index.ts');
  const program = ts.createProgram([index], {
    strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true,
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS,
    types: ['node'], typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
  });
  const checker = program.getTypeChecker();
  const root = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const lines: string[] = [];
  for (const symbol of checker.getExportsOfModule(root)) {
    const kind = kindOf(checker, symbol);
    lines.push(`pertset.${symbol.name}: ${kind}`);
    if (kind !== 'namespace' || FOREIGN.has(symbol.name)) continue;
    for (const member of checker.getExportsOfModule(checker.getAliasedSymbol(symbol))) {
      lines.push(`pertset.${symbol.name}.${member.name}: ${kindOf(checker, member)}`);
    }
  }
  return lines.sort();
}

test('the public API is exactly the committed api-surface.txt', () => {
  const actual = publicSurface();
  if (process.env.PERTSET_UPDATE_API_SNAPSHOT === '1') {
    fs.writeFileSync(SNAPSHOT, actual.join('\n') + '\n');
    console.log(`wrote ${SNAPSHOT} (${actual.length} names)`);
    return;
  }
  assert.ok(fs.existsSync(SNAPSHOT), `${SNAPSHOT} is missing; create it with PERTSET_UPDATE_API_SNAPSHOT=1 npm run test:only -- unit/api`);
  const expected = fs.readFileSync(SNAPSHOT, 'utf8').split('\n').filter(Boolean);
  const added = actual.filter((l) => !expected.includes(l));
  const removed = expected.filter((l) => !actual.includes(l));
  assert.ok(
    added.length === 0 && removed.length === 0,
    `the public API changed.\n  added:   ${added.join('\n           ') || '-'}\n  removed: ${removed.join('\n           ') || '-'}\n` +
      'If this is deliberate, run PERTSET_UPDATE_API_SNAPSHOT=1 npm run test:only -- unit/api, review the diff of ' +
      'test/unit/api/api-surface.txt and commit it with the change.',
  );
  assert.ok(actual.some((l) => l === 'pertset.pairs.PairSource: class'), 'sanity: the checker sees the namespaces');
});

test('internals stay off the public surface', () => {
  const names = publicSurface().map((l) => l.split(':')[0].split('.').pop());
  for (const internal of ['setAdamStepImplementation', 'FusedAdam', 'maybeGunzip', 'readDataFile', 'torchRandperm', 'torchRandomSplit', 'installWasmKernels', 'perPixelError', 'DivergenceMonitor', 'createAdam']) {
    assert.ok(!names.includes(internal), `${internal} is public`);
  }
  const lines = publicSurface();
  assert.equal(lines.filter((l) => /\.PairBatch:/.test(l)).length, 1, 'one PairBatch');
  assert.equal(lines.filter((l) => /\.ARCHITECTURES:/.test(l)).length, 1, 'one architecture list');
});
