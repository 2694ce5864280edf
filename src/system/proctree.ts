import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USER_HZ } from './procstat.js';

/** The fields of /proc/<pid>/stat that the tree needs; times in clock ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Resident pages. */
  rssPages: number;
}

/** Bytes per page for the stat `rss` fallback; 4 KiB on x86 and on most arm64 kernels. */
const PAGE_BYTES = 4096;

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) sits in parentheses and may itself
 * contain spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After ')': state is field 3, so field n is at index n - 3.
  const f = text.slice(close + 1).trim().split(/\s+/).map(Number);
  const stat: ProcStat = {
    pid,
    ppid: f[1]!,
    utime: f[11]!,
    stime: f[12]!,
    cutime: f[13]!,
    cstime: f[14]!,
    rssPages: f[21]!,
  };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** Every process in `<procfsRoot>`, keyed by pid; undefined when procfs cannot be listed. */
function scanProcesses(procfsRoot: string): Map<number, ProcStat> | undefined {
  let entries: string[];
  try {
    entries = readdirSync(procfsRoot);
  } catch {
    return undefined;
  }
  const procs = new Map<number, ProcStat>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(join(procfsRoot, name, 'stat'), 'utf8'));
      if (stat) procs.set(stat.pid, stat);
    } catch {
      // The process exited between readdir and read.
    }
  }
  return procs;
}

function treeOf(pid: number, procs: Map<number, ProcStat>): ProcStat[] {
  if (!procs.has(pid)) return [];
  const children = new Map<number, number[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: ProcStat[] = [];
  const seen = new Set<number>();
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    out.push(procs.get(next)!);
    for (const child of children.get(next) ?? []) queue.push(child);
  }
  return out;
}

/**
 * `pid` and all its live descendants, found by following the ppid links of /proc/<n>/stat.
 * Empty when `pid` does not exist; `[pid]` where procfs is missing (nothing else can be known).
 */
export function processTreePids(pid: number, procfsRoot = '/proc'): number[] {
  const procs = scanProcesses(procfsRoot);
  if (procs === undefined) return [pid];
  return treeOf(pid, procs).map((p) => p.pid);
}

/**
 * CPU seconds of the tree: for each live member, utime + stime (its own threads) + cutime + cstime
 * (the children it has reaped). A process that exits and is reaped moves its time into its reaper's
 * cutime/cstime and leaves the live set at the same moment, so each second is counted exactly once
 * and a finished child is still counted. Time is lost only for processes that leave the tree
 * (re-parented to init, or never waited for); callers take positive deltas.
 *
 * Without procfs, the current process's `process.cpuUsage()` (no children) is returned for
 * `pid === process.pid`, else undefined.
 */
export function processTreeCpuS(pid: number, procfsRoot = '/proc'): number | undefined {
  const procs = scanProcesses(procfsRoot);
  if (procs === undefined) {
    if (pid !== process.pid) return undefined;
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  const tree = treeOf(pid, procs);
  if (tree.length === 0) return undefined;
  let ticks = 0;
  for (const p of tree) ticks += p.utime + p.stime + p.cutime + p.cstime;
  return ticks / USER_HZ;
}

/**
 * Resident memory of the tree in bytes: the sum of `VmRSS` (/proc/<n>/status, exact, kB) over live
 * members, or stat `rss` × 4096 where status is unreadable. Pages shared between members are
 * counted once per member, as psutil's sum in CodeCarbon does. Without procfs, the current
 * process's `process.memoryUsage.rss()` for `pid === process.pid`, else undefined.
 */
export function processTreeRssBytes(pid: number, procfsRoot = '/proc'): number | undefined {
  const procs = scanProcesses(procfsRoot);
  if (procs === undefined) return pid === process.pid ? process.memoryUsage.rss() : undefined;
  const tree = treeOf(pid, procs);
  if (tree.length === 0) return undefined;
  let bytes = 0;
  for (const p of tree) bytes += vmRssBytes(procfsRoot, p.pid) ?? p.rssPages * PAGE_BYTES;
  return bytes;
}

function vmRssBytes(procfsRoot: string, pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(readFileSync(join(procfsRoot, String(pid), 'status'), 'utf8'));
    // Kernel threads and zombies have no VmRSS line: they hold no user memory.
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return undefined;
  }
}
