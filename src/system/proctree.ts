import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProcFile } from './proc-file.js';
import { parsePidList, parseStatBytes, parseVmRssBytes, type ProcStat } from './proc-parse.js';
import { USER_HZ } from './procstat.js';

export type { ProcStat } from './proc-parse.js';

/** Bytes per page for the stat `rss` fallback; 4 KiB on x86 and on most arm64 kernels. */
const PAGE_BYTES = 4096;
/**
 * Descriptors a walker keeps open at most (stat, status and each thread's children list per
 * member); files beyond it are opened for each read, so a large tree cannot exhaust the host's.
 */
const MAX_KEPT_FILES = 256;

const emptyStat = (): ProcStat => ({ pid: 0, ppid: 0, utime: 0, stime: 0, cutime: 0, cstime: 0, rssPages: 0 });

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) sits in parentheses and may itself
 * contain spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const stat = emptyStat();
  const buf = Buffer.from(text, 'utf8');
  return parseStatBytes(buf, buf.length, stat) ? stat : undefined;
}

export interface TaskFile {
  file: ProcFile;
  seen: number;
}

/** One member of the tree and its files, kept from walk to walk while it lives. */
export interface Member {
  readonly pid: number;
  readonly stat: ProcFile;
  status?: ProcFile;
  readonly taskDir: string;
  readonly tasks: Map<string, TaskFile>;
  readonly st: ProcStat;
  seen: number;
}

/**
 * Walks a process tree through procfs, keeping each member's files open from one walk to the next
 * (see {@link ProcFile}): the kernel's /proc/<n>/task/<tid>/children lists where they exist (every
 * thread: a child belongs to the thread that forked it), else the ppid links of every
 * /proc/<n>/stat. A member that exits between the listing and the read is left out; nothing throws.
 */
export class TreeWalker {
  /** The members found by the last {@link walk}, root first. */
  readonly members: Member[] = [];
  private readonly known = new Map<number, Member>();
  private readonly pidScratch: number[] = [];
  private generation = 0;
  private keptFiles = 0;

  constructor(
    readonly procfsRoot: string,
    private readonly keepOpen = true,
  ) {}

  /**
   * Walks the tree of `pid`: the number of members, 0 when `pid` does not exist, -1 when there is
   * no procfs at the root at all (macOS, Windows).
   */
  walk(pid: number): number {
    let gen = ++this.generation;
    const out = this.members;
    out.length = 0;
    const root = this.member(pid);
    if (!this.readStat(root)) {
      this.prune(gen);
      return existsSync(this.procfsRoot) ? 0 : -1;
    }
    root.seen = gen;
    out.push(root);
    if (!this.walkChildren(gen)) {
      // A member without children lists (a kernel without CONFIG_PROC_CHILDREN, or one that exited
      // between its stat and its listing): the ppid links of every process decide instead.
      root.seen = gen = ++this.generation;
      out.length = 1;
      this.scanTree(pid, gen);
    }
    this.prune(gen);
    return out.length;
  }

  /** utime + stime + cutime + cstime over the members of the last walk, in clock ticks. */
  cpuTicks(): number {
    let ticks = 0;
    for (const m of this.members) ticks += m.st.utime + m.st.stime + m.st.cutime + m.st.cstime;
    return ticks;
  }

  /** Sum of `VmRSS` over the members of the last walk; stat `rss` × 4096 where status is unreadable. */
  rssBytes(): number {
    let bytes = 0;
    for (const m of this.members) {
      m.status ??= this.file(join(this.procfsRoot, String(m.pid), 'status'));
      const n = m.status.read();
      bytes += n >= 0 ? parseVmRssBytes(m.status.buf, n) : m.st.rssPages * PAGE_BYTES;
    }
    return bytes;
  }

  /** Closes every descriptor held; a later walk opens what it needs again. */
  close(): void {
    for (const m of this.known.values()) this.forget(m);
    this.known.clear();
    this.members.length = 0;
  }

  private file(path: string): ProcFile {
    const keep = this.keepOpen && this.keptFiles < MAX_KEPT_FILES;
    if (keep) this.keptFiles++;
    return new ProcFile(path, keep, 1024);
  }

  private release(f: ProcFile): void {
    f.close();
    if (this.keepOpen && this.keptFiles > 0) this.keptFiles--;
  }

  private member(pid: number): Member {
    let m = this.known.get(pid);
    if (!m) {
      const dir = join(this.procfsRoot, String(pid));
      m = { pid, stat: this.file(join(dir, 'stat')), taskDir: join(dir, 'task'), tasks: new Map(), st: emptyStat(), seen: 0 };
      this.known.set(pid, m);
    }
    return m;
  }

  private readStat(m: Member): boolean {
    const n = m.stat.read();
    return n >= 0 && parseStatBytes(m.stat.buf, n, m.st);
  }

  private forget(m: Member): void {
    this.release(m.stat);
    if (m.status) this.release(m.status);
    for (const t of m.tasks.values()) this.release(t.file);
    m.tasks.clear();
  }

  /** Drops the members not seen by the walk `gen` (exited, or left the tree), closing their files. */
  private prune(gen: number): void {
    if (this.known.size === this.members.length) return;
    for (const m of this.known.values()) {
      if (m.seen === gen) continue;
      this.forget(m);
      this.known.delete(m.pid);
    }
  }

  /** The tree through the kernel's children lists; false when a member has none. */
  private walkChildren(gen: number): boolean {
    const out = this.members;
    const pids = this.pidScratch;
    for (let i = 0; i < out.length; i++) {
      pids.length = 0;
      if (!this.childPids(out[i]!, gen, pids)) return false;
      for (const pid of pids) {
        if (this.known.get(pid)?.seen === gen) continue;
        const child = this.member(pid);
        if (!this.readStat(child)) continue; // exited meanwhile; pruned below
        child.seen = gen;
        out.push(child);
      }
    }
    return true;
  }

  /** Appends the children of `m` (every thread's list) to `out`; false when no list could be read. */
  private childPids(m: Member, gen: number, out: number[]): boolean {
    let tids: string[];
    try {
      tids = readdirSync(m.taskDir);
    } catch {
      return false;
    }
    let read = 0;
    for (const tid of tids) {
      let t = m.tasks.get(tid);
      if (!t) m.tasks.set(tid, (t = { file: this.file(join(m.taskDir, tid, 'children')), seen: 0 }));
      const n = t.file.read();
      if (n < 0) continue; // the thread ended between the listing and the read
      t.seen = gen;
      read++;
      parsePidList(t.file.buf, n, out);
    }
    if (m.tasks.size > read) {
      for (const [tid, t] of m.tasks) {
        if (t.seen === gen) continue;
        this.release(t.file);
        m.tasks.delete(tid);
      }
    }
    return read > 0;
  }

  /** The tree from the ppid links of every /proc/<n>/stat (kernels without children lists). */
  private scanTree(pid: number, gen: number): void {
    let entries: string[] = [];
    try {
      entries = readdirSync(this.procfsRoot);
    } catch {
      // Listing refused: only the root is known.
    }
    const children = new Map<number, number[]>();
    const st = emptyStat();
    for (const name of entries) {
      if (!/^\d+$/.test(name)) continue;
      const f = new ProcFile(join(this.procfsRoot, name, 'stat'), false, 1024);
      const n = f.read();
      if (n < 0 || !parseStatBytes(f.buf, n, st)) continue; // exited between readdir and read
      const list = children.get(st.ppid);
      if (list) list.push(st.pid);
      else children.set(st.ppid, [st.pid]);
    }
    const out = this.members;
    const queue = [...(children.get(pid) ?? [])];
    for (let i = 0; i < queue.length; i++) {
      const next = queue[i]!;
      if (this.known.get(next)?.seen === gen) continue;
      const m = this.member(next);
      if (!this.readStat(m)) continue;
      m.seen = gen;
      out.push(m);
      queue.push(...(children.get(next) ?? []));
    }
  }
}

function walkOnce<T>(pid: number, procfsRoot: string, use: (w: TreeWalker, members: number) => T): T {
  const w = new TreeWalker(procfsRoot, false);
  try {
    return use(w, w.walk(pid));
  } finally {
    w.close();
  }
}

/**
 * `pid` and all its live descendants: from the kernel's /proc/<n>/task/<tid>/children lists where
 * they exist, else by following the ppid links of every /proc/<n>/stat.
 * Empty when `pid` does not exist; `[pid]` where procfs is missing (nothing else can be known).
 */
export function processTreePids(pid: number, procfsRoot = '/proc'): number[] {
  return walkOnce(pid, procfsRoot, (w, n) => treePids(w, n, pid));
}

/** {@link processTreePids} from a walker's last walk, which found `members`. */
export function treePids(w: TreeWalker, members: number, pid: number): number[] {
  return members < 0 ? [pid] : w.members.map((m) => m.pid);
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
  return walkOnce(pid, procfsRoot, (w, n) => treeCpuS(w, n, pid));
}

/** {@link processTreeCpuS} from a walker's last walk, which found `members` (see {@link TreeWalker.walk}). */
export function treeCpuS(w: TreeWalker, members: number, pid: number): number | undefined {
  if (members < 0) {
    if (pid !== process.pid) return undefined;
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  return members === 0 ? undefined : w.cpuTicks() / USER_HZ;
}

/**
 * Resident memory of the tree in bytes: the sum of `VmRSS` (/proc/<n>/status, exact, kB) over live
 * members, or stat `rss` × 4096 where status is unreadable. Pages shared between members are
 * counted once per member, as psutil's sum in CodeCarbon does. Without procfs, the current
 * process's `process.memoryUsage.rss()` for `pid === process.pid`, else undefined.
 */
export function processTreeRssBytes(pid: number, procfsRoot = '/proc'): number | undefined {
  return walkOnce(pid, procfsRoot, (w, n) => treeRssBytes(w, n, pid));
}

/** {@link processTreeRssBytes} from a walker's last walk, which found `members`. */
export function treeRssBytes(w: TreeWalker, members: number, pid: number): number | undefined {
  if (members < 0) return pid === process.pid ? process.memoryUsage.rss() : undefined;
  return members === 0 ? undefined : w.rssBytes();
}
