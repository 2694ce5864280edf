import { closeSync, openSync, readSync } from 'node:fs';
import { requireHere as requireBuiltin } from './require-here.js';

// Built-in modules that take milliseconds and hundreds of KiB of heap to load (Node 20, measured:
// node:crypto ~10 ms and ~350 KiB with the streams it pulls in, node:v8 ~5 ms, node:stream ~4 ms,
// node:http(s) ~5 ms): required where first used, so that `import 'wattprint'` and a plain
// start() / stop() never load them. A static `import` of any of them anywhere in the start path
// undoes this (test/native/lazy-load.test.ts checks).
export const nodeCrypto = (): typeof import('node:crypto') => requireBuiltin('node:crypto');
export const nodeV8 = (): typeof import('node:v8') => requireBuiltin('node:v8');
export const nodeStream = (): typeof import('node:stream') => requireBuiltin('node:stream');
export const nodeHttp = (protocol: string): typeof import('node:http') => requireBuiltin(protocol === 'https:' ? 'node:https' : 'node:http');

/**
 * `n` random bytes from the kernel's CSPRNG: /dev/urandom where there is one (a 16-byte read costs
 * microseconds, loading node:crypto ~10 ms), else node:crypto.
 */
export function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buf, 0, n, null) === n) return buf;
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom (Windows, a sandbox): node:crypto below.
  }
  return nodeCrypto().randomBytes(n);
}

/** An RFC 9562 version-4 UUID, as `crypto.randomUUID()` makes (see {@link randomBytes}). */
export function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
