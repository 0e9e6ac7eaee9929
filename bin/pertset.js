#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/. It exits explicitly because
// threaded wasm workers keep the event loop alive after the work is done.
require('../dist/kernel/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exit(code); },
  (err) => { console.error(`pertset: ${err && err.message ? err.message : err}`); process.exit(1); },
);
