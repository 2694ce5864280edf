/**
 * The string-based /proc parsers this package used before the byte parsers of src/system/proc-parse.ts
 * (readFileSync, split, regular expressions), kept as the oracle the new ones must agree with
 * exactly. Fallbacks (os.cpus, os.totalmem) are left out: the comparisons run on fixture files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcStat as Stat } from '../../src/system/proc-parse.js';

export function legacyCpuTimes(root: string): { busyS: number; totalS: number } | undefined {
  const text = readFileSync(join(root, 'stat'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 4 || ticks.some((t) => !Number.isFinite(t))) return undefined;
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + (ticks[4] ?? 0);
  return { busyS: (total - idle) / 100, totalS: total / 100 };
}

export function legacyMemInfo(root: string): { totalBytes: number; availableBytes: number; usedBytes: number } | undefined {
  const fields = new Map<string, number>();
  for (const line of readFileSync(join(root, 'meminfo'), 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m) fields.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = fields.get('MemTotal');
  if (total === undefined || !(total > 0)) return undefined;
  const available = fields.get('MemAvailable') ?? (fields.get('MemFree') ?? 0) + (fields.get('Buffers') ?? 0) + (fields.get('Cached') ?? 0);
  const free = fields.get('MemFree') ?? 0;
  const cached = (fields.get('Cached') ?? 0) + (fields.has('Cached') ? (fields.get('SReclaimable') ?? 0) : 0);
  const used = total - free - cached - (fields.get('Buffers') ?? 0);
  return { totalBytes: total, availableBytes: available, usedBytes: used < 0 ? total - free : used };
}

export function legacyParseStat(text: string): Stat | undefined {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 1).trim().split(/\s+/).map(Number);
  const s: Stat = { pid, ppid: f[1]!, utime: f[11]!, stime: f[12]!, cutime: f[13]!, cstime: f[14]!, rssPages: f[21]! };
  return Object.values(s).every(Number.isFinite) ? s : undefined;
}

function readStat(root: string, pid: number): Stat | undefined {
  try {
    return legacyParseStat(readFileSync(join(root, String(pid), 'stat'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The tree through the children lists (every member must have them). */
export function legacyTree(root: string, pid: number): Stat[] {
  const first = readStat(root, pid);
  if (!first) return [];
  const out = [first];
  const seen = new Set([pid]);
  for (let i = 0; i < out.length; i++) {
    const task = join(root, String(out[i]!.pid), 'task');
    for (const tid of readdirSync(task)) {
      for (const c of readFileSync(join(task, tid, 'children'), 'utf8').split(' ')) {
        if (c.trim() === '' || seen.has(Number(c))) continue;
        seen.add(Number(c));
        const s = readStat(root, Number(c));
        if (s) out.push(s);
      }
    }
  }
  return out;
}

export function legacyRssBytes(root: string, tree: Stat[]): number {
  let bytes = 0;
  for (const p of tree) {
    try {
      const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(readFileSync(join(root, String(p.pid), 'status'), 'utf8'));
      bytes += m ? Number(m[1]) * 1024 : 0;
    } catch {
      bytes += p.rssPages * 4096;
    }
  }
  return bytes;
}
