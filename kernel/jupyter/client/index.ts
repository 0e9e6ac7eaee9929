/** A Jupyter protocol client in plain Node (no `vscode`): the extension's NotebookController and `pertset reproduce` both drive the kernel through it. */
export * from './errors';
export * from '../wire';
export { KernelConnection, writeConnectionFile } from './connection';
export type { ConnectionInfo, Channel } from './connection';
export * from './session';
export * from './output-mapping';
