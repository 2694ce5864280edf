import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

function readStat(procfsRoot: string, pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(join(procfsRoot, String(pid), 'stat'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Children of `pid` from /proc/<pid>/task/<tid>/children (every thread: a child belongs to the thread
 * that forked it). Undefined when the kernel lacks CONFIG_PROC_CHILDREN or the files are unreadable.
 */
function childPids(procfsRoot: string, pid: number): number[] | undefined {
  try {
    const taskDir = join(procfsRoot, String(pid), 'task');
    const pids: number[] = [];
    for (const tid of readdirSync(taskDir)) {
      for (const child of readFileSync(join(taskDir, tid, 'children'), 'utf8').split(' ')) {
        if (child.trim() !== '') pids.push(Number(child));
      }
    }
    return pids;
  } catch {
    return undefined;
  }
}

/** The tree through the kernel's children lists: reads only the tree's own files. */
function walkChildren(procfsRoot: string, root: ProcStat): ProcStat[] | undefined {
  const out = [root];
  const seen = new Set([root.pid]);
  for (let i = 0; i < out.length; i++) {
    const children = childPids(procfsRoot, out[i]!.pid);
    if (children === undefined) return undefined;
    for (const pid of children) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      const stat = readStat(procfsRoot, pid);
      if (stat) out.push(stat); // else it exited meanwhile
    }
  }
  return out;
}

/** The tree from the ppid links of every /proc/<n>/stat (kernels without children lists). */
function scanTree(procfsRoot: string, pid: number): ProcStat[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(procfsRoot);
  } catch {
    // Listing refused: only the root is known.
  }
  const procs = new Map<number, ProcStat>();
  const children = new Map<number, number[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(procfsRoot, Number(name));
    if (!stat) continue; // exited between readdir and read
    procs.set(stat.pid, stat);
    const list = children.get(stat.ppid);
    if (list) list.push(stat.pid);
    else children.set(stat.ppid, [stat.pid]);
  }
  const out: ProcStat[] = [];
  const seen = new Set<number>();
  const queue = [pid];
  for (let i = 0; i < queue.length; i++) {
    const next = queue[i]!;
    const stat = procs.get(next);
    if (seen.has(next) || !stat) continue;
    seen.add(next);
    out.push(stat);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * Stats of `pid` and its live descendants: empty when `pid` does not exist, undefined when there is
 * no procfs at `procfsRoot` at all (macOS, Windows).
 */
function treeStats(pid: number, procfsRoot: string): ProcStat[] | undefined {
  const root = readStat(procfsRoot, pid);
  if (!root) return existsSync(procfsRoot) ? [] : undefined;
  return walkChildren(procfsRoot, root) ?? scanTree(procfsRoot, pid);
}

/**
 * `pid` and all its live descendants: from the kernel's /proc/<n>/task/<tid>/children lists where
 * they exist, else by following the ppid links of every /proc/<n>/stat.
 * Empty when `pid` does not exist; `[pid]` where procfs is missing (nothing else can be known).
 */
export function processTreePids(pid: number, procfsRoot = '/proc'): number[] {
  return treeStats(pid, procfsRoot)?.map((p) => p.pid) ?? [pid];
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
  const tree = treeStats(pid, procfsRoot);
  if (tree === undefined) {
    if (pid !== process.pid) return undefined;
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
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
  const tree = treeStats(pid, procfsRoot);
  if (tree === undefined) return pid === process.pid ? process.memoryUsage.rss() : undefined;
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
