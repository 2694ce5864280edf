import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** Machine memory in bytes. */
export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

/**
 * `MemTotal` and `MemAvailable` from `<procfsRoot>/meminfo` (kB = 1024 bytes); kernels older than 3.14
 * lack MemAvailable, so MemFree + Buffers + Cached stands in. Falls back to `os.totalmem()` and
 * `os.freemem()`. Never throws.
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
      return { totalBytes: total, availableBytes: available };
    }
  } catch {
    // No procfs here (macOS, Windows): os answers below.
  }
  return { totalBytes: os.totalmem(), availableBytes: os.freemem() };
}
