import { join } from 'node:path';
import { readMemInfoInto, type MemInfo } from './meminfo.js';
import { ProcFile } from './proc-file.js';
import { readCpuTimesInto, type CpuTimes } from './procstat.js';
import { TreeWalker, treeCpuS, treePids, treeRssBytes } from './proctree.js';

/**
 * What the sampler and the built-in sources read from one procfs root, through files kept open
 * (see {@link ProcFile}) and parsed without allocating. Between {@link begin} and {@link end} (one
 * sample) each file is read at most once and every reader gets the same figures: /proc/stat once
 * for the CPU estimate and the utilisation columns, one walk of the tracked tree for CPU time and
 * RSS. Outside a sample (a source's own poll, `start()`), every call reads afresh.
 *
 * Shared per root by {@link acquireProcView}; the last {@link releaseProcView} closes its files.
 */
export class ProcView {
  private depth = 0;
  private sampleId = 0;
  private readonly statFile: ProcFile;
  private readonly memFile: ProcFile;
  private readonly walker: TreeWalker;
  private readonly cpu: CpuTimes = { busyS: 0, totalS: 0 };
  private cpuOk = false;
  private cpuAt = -1;
  private readonly mem: MemInfo = { totalBytes: 0, availableBytes: 0, usedBytes: 0 };
  private memAt = -1;
  private treePid = -1;
  private treeMembers = 0;
  private treeAt = -1;
  private rss: number | undefined;
  private rssAt = -1;

  constructor(readonly procfsRoot: string) {
    this.statFile = new ProcFile(join(procfsRoot, 'stat'));
    this.memFile = new ProcFile(join(procfsRoot, 'meminfo'));
    this.walker = new TreeWalker(procfsRoot);
  }

  /** Opens a sample: reads are shared until the matching {@link end}. Nests. */
  begin(): void {
    if (this.depth++ === 0) this.sampleId++;
  }

  end(): void {
    if (this.depth > 0) this.depth--;
  }

  /** The id that marks a read as shared by the open sample; -1 (never fresh) outside one. */
  private get stamp(): number {
    return this.depth > 0 ? this.sampleId : -1;
  }

  private fresh(at: number): boolean {
    return this.depth > 0 && at === this.sampleId;
  }

  /** System CPU times into `out` (see `readSystemCpuTimes`); false when nothing answers. */
  cpuTimes(out: CpuTimes): boolean {
    if (!this.fresh(this.cpuAt)) {
      this.cpuOk = readCpuTimesInto(this.statFile, this.cpu);
      this.cpuAt = this.stamp;
    }
    out.busyS = this.cpu.busyS;
    out.totalS = this.cpu.totalS;
    return this.cpuOk;
  }

  /** Machine memory into `out` (see `readMemInfo`). */
  memInfo(out: MemInfo): void {
    if (!this.fresh(this.memAt)) {
      readMemInfoInto(this.memFile, this.mem);
      this.memAt = this.stamp;
    }
    out.totalBytes = this.mem.totalBytes;
    out.availableBytes = this.mem.availableBytes;
    out.usedBytes = this.mem.usedBytes;
  }

  private walk(pid: number): number {
    if (!this.fresh(this.treeAt) || this.treePid !== pid) {
      this.treeMembers = this.walker.walk(pid);
      this.treePid = pid;
      this.treeAt = this.stamp;
      this.rssAt = -1;
    }
    return this.treeMembers;
  }

  /** `pid` and its live descendants (see `processTreePids`). */
  treePids(pid: number): number[] {
    return treePids(this.walker, this.walk(pid), pid);
  }

  /** CPU seconds of the tree of `pid` (see `processTreeCpuS`). */
  treeCpuS(pid: number): number | undefined {
    return treeCpuS(this.walker, this.walk(pid), pid);
  }

  /** Resident bytes of the tree of `pid` (see `processTreeRssBytes`). */
  treeRssBytes(pid: number): number | undefined {
    const members = this.walk(pid);
    if (!this.fresh(this.rssAt)) {
      this.rss = treeRssBytes(this.walker, members, pid);
      this.rssAt = this.stamp;
    }
    return this.rss;
  }

  /** Closes every file held; later reads open them again. */
  close(): void {
    this.statFile.close();
    this.memFile.close();
    this.walker.close();
    this.treeAt = this.cpuAt = this.memAt = this.rssAt = -1;
  }
}

const views = new Map<string, { view: ProcView; refs: number }>();

/** The view of `procfsRoot` shared by the tracker's sampler and sources; release it when done. */
export function acquireProcView(procfsRoot: string): ProcView {
  let entry = views.get(procfsRoot);
  if (!entry) views.set(procfsRoot, (entry = { view: new ProcView(procfsRoot), refs: 0 }));
  entry.refs++;
  return entry.view;
}

/** Drops one hold on the view; the last one closes its files. */
export function releaseProcView(view: ProcView): void {
  const entry = views.get(view.procfsRoot);
  if (!entry || entry.view !== view) return view.close();
  if (--entry.refs > 0) return;
  views.delete(view.procfsRoot);
  view.close();
}
