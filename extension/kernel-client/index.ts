/** The Jupyter protocol client used by the extension's NotebookController (no `vscode` import). */
export * from './errors';
export * from '../../kernel/jupyter/wire';
export { KernelConnection, writeConnectionFile } from './connection';
export type { ConnectionInfo, Channel } from './connection';
export * from './session';
