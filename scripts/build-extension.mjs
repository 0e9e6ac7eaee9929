#!/usr/bin/env node
// PLACEHOLDER: replaced by the part that owns it.
console.log("build-extension: nothing to build yet");
