import os from 'node:os';
import { join } from 'node:path';
import { ProcFile } from './proc-file.js';
import { parseMemFields, type MemFields } from './proc-parse.js';

/** Machine memory in bytes. */
export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  /**
   * psutil's `used` on Linux, which CodeCarbon writes as `ram_used_gb`: total − free − buffers −
   * (cached + SReclaimable), or total − free when that is negative (containers).
   */
  usedBytes: number;
}

/**
 * `MemTotal`, `MemAvailable` and psutil's `used` from `<procfsRoot>/meminfo` (kB = 1024 bytes);
 * kernels older than 3.14 lack MemAvailable, so MemFree + Buffers + Cached stands in. Falls back to
 * `os.totalmem()` and `os.freemem()`. Never throws.
 */
export function readMemInfo(procfsRoot = '/proc'): MemInfo {
  const out: MemInfo = { totalBytes: 0, availableBytes: 0, usedBytes: 0 };
  readMemInfoInto(new ProcFile(join(procfsRoot, 'meminfo'), false), out);
  return out;
}

const fields: MemFields = { memTotal: NaN, memFree: NaN, memAvailable: NaN, buffers: NaN, cached: NaN, sReclaimable: NaN };
const or0 = (v: number) => (Number.isNaN(v) ? 0 : v);

/** {@link readMemInfo} through a kept file (`<procfsRoot>/meminfo`) into `out`, without allocating where procfs answers. */
export function readMemInfoInto(file: ProcFile, out: MemInfo): void {
  const n = file.read();
  if (n >= 0) {
    parseMemFields(file.buf, n, fields);
    const total = fields.memTotal;
    if (total > 0) {
      const free = or0(fields.memFree);
      const buffers = or0(fields.buffers);
      const hasCached = !Number.isNaN(fields.cached);
      const available = Number.isNaN(fields.memAvailable) ? free + buffers + or0(fields.cached) : fields.memAvailable;
      const cached = or0(fields.cached) + (hasCached ? or0(fields.sReclaimable) : 0);
      const used = total - free - cached - buffers;
      out.totalBytes = total;
      out.availableBytes = available;
      out.usedBytes = used < 0 ? total - free : used;
      return;
    }
  }
  // No procfs here (macOS, Windows): os answers.
  out.totalBytes = os.totalmem();
  out.availableBytes = os.freemem();
  out.usedBytes = out.totalBytes - out.availableBytes;
}
