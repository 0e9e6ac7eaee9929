#!/usr/bin/env node
// PLACEHOLDER: replaced by the part that owns it.
console.log("package-extension: nothing to build yet");
