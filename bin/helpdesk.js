#!/usr/bin/env node
// The published entry point runs the compiled CLI (built by `npm install` through `prepare`).
import v8 from 'node:v8';

// Grow the heap to 2x its live size between full collections, where V8 would pick a factor of
// up to 4 on its own (and less only when collecting is slow or memory is short): under load
// most of the peak RSS was garbage waiting for the next full collection, and the lower factor
// bounds it at the same CPU per request (docs/PERFORMANCE.md). A value given on the command
// line wins.
if (!process.execArgv.some((flag) => /^--heap[-_]growing[-_]percent/.test(flag))) v8.setFlagsFromString('--heap-growing-percent=100');

await import('../dist/cli/main.js');
