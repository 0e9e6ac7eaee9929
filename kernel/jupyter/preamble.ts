/**
 * The first "cell" every session runs: imports the API by absolute path, so `pertset.` is typed,
 * completes and inspects from any notebook folder, with no node_modules there.
 */
import * as path from 'path';

/** dist/kernel/api, beside this compiled file (dist/kernel/jupyter). */
export function apiDir(): string {
  return path.resolve(__dirname, '..', 'api');
}

export function preambleSource(dir = apiDir()): string {
  // Forward slashes: TypeScript module specifiers, also on Windows.
  const api = dir.split(path.sep).join('/');
  return [
    `import * as pertset from ${JSON.stringify(api)};`,
    `import { display } from ${JSON.stringify(`${api}/display`)};`,
    // TensorFlow.js as the API uses it, resolved from the API's own folder (cells may live anywhere).
    `import { tf } from ${JSON.stringify(api)};`,
  ].join('\n');
}
