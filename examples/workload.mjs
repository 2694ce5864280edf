// A real CPU workload: SHA-256 over a buffer and gzip of generated JSON, for `durationMs` each.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export function hashFor(durationMs) {
  const buf = randomBytes(1 << 20);
  const end = performance.now() + durationMs;
  let rounds = 0;
  let digest = '';
  while (performance.now() < end) {
    digest = createHash('sha256').update(buf).update(digest).digest('hex');
    rounds++;
  }
  return { rounds, mib: rounds, digest };
}

export function compressFor(durationMs) {
  const doc = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ i, name: `item-${i}`, tags: ['a', 'b', String(i % 97)] })));
  const end = performance.now() + durationMs;
  let bytesIn = 0;
  let bytesOut = 0;
  while (performance.now() < end) {
    bytesOut += gzipSync(doc).length;
    bytesIn += doc.length;
  }
  return { bytesIn, bytesOut };
}
