/**
 * Rewrites a cell's source before tslab compiles it, to work around a tslab 1.0.22 bug:
 * variables from earlier cells are rewritten to properties of a shared `exports` object, but a
 * shorthand property `{ foo }` is left as is, so `console.log({ foo })` throws
 * "foo is not defined". Expanding shorthands to `{ foo: foo }` lets tslab's rewrite see them.
 * Positions only move within a line, so error line numbers stay right.
 */
import type * as TS from '@tslab/typescript-for-tslab';

// tslab's own TypeScript fork (a runtime dependency of tslab): the parser cells are compiled with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('@tslab/typescript-for-tslab') as typeof TS;

/**
 * `{ a, b: 1 }` → `{ a: a, b: 1 }`. In destructuring assignments the same rewrite is equivalent
 * (`({ a = 1 } = o)` → `({ a: a = 1 } = o)`), so every shorthand is expanded.
 */
export function expandShorthandProperties(code: string): string {
  const file = ts.createSourceFile('cell.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edits: Array<{ at: number; text: string }> = [];
  const visit = (node: TS.Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) {
      edits.push({ at: node.name.getEnd(), text: `: ${node.name.text}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = code;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}
