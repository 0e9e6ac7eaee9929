/**
 * The tslab 1.0.22 internals the launcher builds on (pinned exactly in package.json: these are
 * not tslab's public API). Kept in one module so an upgrade touches one file.
 */
import { createConverter, isCompleteCode, type Converter } from 'tslab/dist/converter';
import { createExecutor, type ConverterSet, type Executor } from 'tslab/dist/executor';
import { printQuickInfo } from 'tslab/dist/inspect';
import * as tslabJupyter from 'tslab/dist/jupyter';

export { createExecutor, isCompleteCode, printQuickInfo, type Executor };
export const ZmqServer = tslabJupyter.ZmqServer;
export type ZmqServer = tslabJupyter.ZmqServer;

/** `ts.version` of tslab's TypeScript fork (the language version cells are checked with). */
export function typescriptVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@tslab/typescript-for-tslab') as { version: string }).version;
}

export function tslabVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('tslab/package.json') as { version: string }).version;
}

/** Node-mode converter created eagerly (its TypeScript watch program takes a few hundred ms); browser mode on first use. */
export function createConverterSet(): ConverterSet {
  const node = createConverter({ isJS: false, isBrowser: false });
  let browser: Converter | undefined;
  return {
    node,
    get browser() {
      browser ??= createConverter({ isJS: false, isBrowser: true });
      return browser;
    },
    close() {
      node.close();
      browser?.close();
    },
  };
}

/**
 * Lets `import * as tslab from "tslab"; tslab.display.html(...)` work in our kernel too: tslab's
 * display API writes through this module-level variable of the same tslab instance.
 */
export function setTslabDisplayWriter(write: ((data: unknown, update: boolean) => void) | null): void {
  (tslabJupyter as { lastWriteDisplayData: unknown }).lastWriteDisplayData = write;
}
