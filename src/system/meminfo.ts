import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

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
  try {
    const fields = new Map<string, number>();
    for (const line of readFileSync(join(procfsRoot, 'meminfo'), 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
      if (m) fields.set(m[1]!, Number(m[2]) * 1024);
    }
    const total = fields.get('MemTotal');
    if (total !== undefined && total > 0) {
      const available =
        fields.get('MemAvailable') ??
        (fields.get('MemFree') ?? 0) + (fields.get('Buffers') ?? 0) + (fields.get('Cached') ?? 0);
      const free = fields.get('MemFree') ?? 0;
      const cached = (fields.get('Cached') ?? 0) + (fields.has('Cached') ? (fields.get('SReclaimable') ?? 0) : 0);
      const used = total - free - cached - (fields.get('Buffers') ?? 0);
      return { totalBytes: total, availableBytes: available, usedBytes: used < 0 ? total - free : used };
    }
  } catch {
    // No procfs here (macOS, Windows): os answers below.
  }
  return { totalBytes: os.totalmem(), availableBytes: os.freemem(), usedBytes: os.totalmem() - os.freemem() };
}
