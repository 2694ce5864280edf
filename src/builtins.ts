import { createRequire } from 'node:module';

// Built-in modules that take milliseconds and hundreds of KiB of heap to load (Node 20, measured:
// node:crypto ~10 ms and ~350 KiB with the streams it pulls in, node:v8 ~5 ms, node:stream ~4 ms,
// node:http(s) ~5 ms): required where first used, so that `import 'wattprint'` and a plain
// start() never load them. A static `import` of any of them anywhere in the start path undoes this
// (test/native/lazy-load.test.ts checks).
const requireBuiltin = createRequire(import.meta.url);

export const nodeCrypto = (): typeof import('node:crypto') => requireBuiltin('node:crypto');
export const nodeV8 = (): typeof import('node:v8') => requireBuiltin('node:v8');
export const nodeStream = (): typeof import('node:stream') => requireBuiltin('node:stream');
export const nodeHttp = (protocol: string): typeof import('node:http') => requireBuiltin(protocol === 'https:' ? 'node:https' : 'node:http');
