import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmissionsTracker } from '../../src/index.js';
import { readMemInfo } from '../../src/system/meminfo.js';
import { ProcFile } from '../../src/system/proc-file.js';
import { parseStatBytes, type ProcStat } from '../../src/system/proc-parse.js';
import { acquireProcView, releaseProcView } from '../../src/system/proc-view.js';
import { readSystemCpuTimes } from '../../src/system/procstat.js';
import { parseProcStat, processTreeCpuS, processTreePids, processTreeRssBytes, TreeWalker } from '../../src/system/proctree.js';
import { legacyCpuTimes, legacyMemInfo, legacyParseStat, legacyRssBytes, legacyTree } from './legacy-proc.js';
import { makeProcfs } from './procfs-fixture.js';

const linux = process.platform === 'linux';
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});
function procfs() {
  const f = makeProcfs();
  cleanups.push(() => f.cleanup());
  return f;
}
/** Descriptors of this process open on files under `root`. */
function fdsUnder(root: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(root)) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}
const exited = (child: ReturnType<typeof spawn>) => new Promise((resolve) => child.once('exit', resolve));

/** A /proc/stat of `cpus` CPUs with large counters, longer than the first buffer (4 KiB). */
function manyCpuStat(cpus: number): string {
  const line = (name: string, k: number) => `${name} ${[7e12 + k, 3 + k, 9e11 + k, 2 ** 45 + k, 17, 0, 123456789 + k, 5, 99, 1].join(' ')}`;
  const lines = [line('cpu ', 0)];
  for (let i = 0; i < cpus; i++) lines.push(line(`cpu${i}`, i));
  return `${lines.join('\n')}\nintr 123 4 5\nctxt 987654321\nbtime 1700000000\nprocesses 4242\n`;
}

describe('byte parsers agree exactly with the string parsers they replace', () => {
  it('/proc/stat: two CPUs, 512 CPUs (buffer grows), short lines, malformed lines', () => {
    const f = procfs();
    const cases = [
      manyCpuStat(2),
      manyCpuStat(512),
      'cpu  1 2 3 4\ncpu0 1 2 3 4\n',
      'cpu  10 20 30 40 50\n',
      'intr 1\ncpu  5 6 7 8 9 10 11 12 13 14\n',
      'cpu \t9 8 7 6 5 4 3 2 1 0\n',
    ];
    if (linux) cases.push(readFileSync('/proc/stat', 'latin1'));
    for (const text of cases) {
      f.write('stat', text);
      const legacy = legacyCpuTimes(f.root);
      expect(legacy).toBeDefined();
      expect(readSystemCpuTimes(f.root)).toStrictEqual(legacy);
    }
    expect(manyCpuStat(512).length).toBeGreaterThan(4096 * 8);
    // Malformed: both fall back (the legacy oracle says undefined, the reader goes to os.cpus(),
    // held still here: a busy machine's CPU times move between two live calls).
    const cpus = vi.spyOn(os, 'cpus').mockReturnValue(os.cpus());
    try {
      for (const text of ['cpu  1 2 3\n', 'cpu  1 2 x 4 5\n', 'cpu0 1 2 3 4\n', 'cpu\t1 2 3 4\n']) {
        f.write('stat', text);
        expect(legacyCpuTimes(f.root)).toBeUndefined();
        expect(readSystemCpuTimes(f.root)).toStrictEqual(readSystemCpuTimes(join(f.root, 'missing')));
      }
    } finally {
      cpus.mockRestore();
    }
  });

  it('/proc/meminfo: a real layout, no MemAvailable, no Cached, units other than kB', () => {
    const f = procfs();
    const cases = [
      'MemTotal:       24683792 kB\nMemFree:        12123368 kB\nMemAvailable:   19226832 kB\nBuffers:           24900 kB\nCached:          6178428 kB\nSwapCached:            0 kB\nActive(anon):  1 kB\nSReclaimable:     216604 kB\nHugePages_Total:       0\nHugepagesize:       2048 kB\n',
      'MemTotal: 8000 kB\nMemFree: 1000 kB\nBuffers: 200 kB\nCached: 300 kB\n',
      'MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 700 kB\nBuffers: 100 kB\nSReclaimable: 50 kB\n',
      'MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 700 kB\nBuffers: 100 kB\nCached: 600 kB\nSReclaimable: 50 kB\n',
      'MemFree: 1 kB\nMemTotal:\t4096 kB\nNotMemTotal: 9 kB\nXCached: 77 kB\n',
    ];
    if (linux) cases.push(readFileSync('/proc/meminfo', 'latin1'));
    for (const text of cases) {
      f.write('meminfo', text);
      const legacy = legacyMemInfo(f.root);
      expect(legacy).toBeDefined();
      expect(readMemInfo(f.root)).toStrictEqual(legacy);
    }
  });

  it('/proc/<pid>/stat: odd command names, negative fields, the real line, garbage', () => {
    const lines = [
      '101 (my (weird) app) 7 8) S 100 101 101 0 -1 0 0 0 0 0 250 50 1 2 20 0 1 0 5 6 300 9',
      '7 ()) R 1 7 7 34816 -1 4194560 1 0 0 0 123456789012 42 -3 -4 -20 -20 12 0 100 2000 4096 1 2 3\n',
      '12 (a\nb) S 1 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 5 6 7',
    ];
    if (linux) lines.push(readFileSync(`/proc/${process.pid}/stat`, 'latin1'));
    for (const line of lines) {
      expect(legacyParseStat(line)).toBeDefined();
      expect(parseProcStat(line)).toStrictEqual(legacyParseStat(line));
    }
    for (const bad of ['garbage', '12 (x) S 1 2 3', '12 (x) S one 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22', '']) {
      expect(parseProcStat(bad)).toBeUndefined();
      expect(legacyParseStat(bad)).toBeUndefined();
    }
  });

  it('a process tree with per-thread children lists: pids, CPU and RSS', () => {
    const f = procfs();
    f.proc({ pid: 100, ppid: 1, utime: 300, stime: 100, cutime: 40, cstime: 10, vmRssKiB: 200_000 });
    f.proc({ pid: 101, ppid: 100, comm: 'a (b) c', utime: 250, stime: 50, vmRssKiB: 100_000 });
    f.proc({ pid: 102, ppid: 101, utime: 70, stime: 30, cutime: 5, cstime: 5, rssPages: 1000 });
    f.proc({ pid: 103, ppid: 100, utime: 20, stime: 0, vmRssKiB: 50_000 });
    f.write('104/status', 'Name:\tkworker\nPid:\t104\n'); // no VmRSS line: a kernel thread
    f.proc({ pid: 104, ppid: 100, utime: 1, stime: 1 });
    f.children(100, { 100: [101], 1001: [103, 104] });
    f.children(101, { 101: [], 1011: [102] });
    f.children(102, { 102: [] });
    f.children(103, { 103: [] });
    f.children(104, { 104: [] });
    const legacy = legacyTree(f.root, 100);
    expect(processTreePids(100, f.root)).toStrictEqual(legacy.map((p) => p.pid));
    expect(processTreeCpuS(100, f.root)).toBe(legacy.reduce((a, p) => a + p.utime + p.stime + p.cutime + p.cstime, 0) / 100);
    expect(processTreeRssBytes(100, f.root)).toBe(legacyRssBytes(f.root, legacy));
    expect(processTreeRssBytes(100, f.root)).toBe((200_000 + 100_000 + 50_000) * 1024 + 1000 * 4096);
  });
});

describe('ProcFile: one pread into a kept buffer', () => {
  function file(text: string | Buffer) {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-procfile-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'f');
    writeFileSync(path, text);
    return path;
  }

  it('reads a file that fills the buffer exactly, or by one byte less, whole', () => {
    for (const size of [63, 64, 65, 128, 129]) {
      const text = Buffer.alloc(size, 'x');
      const f = new ProcFile(file(text), true, 64);
      expect(f.read()).toBe(size);
      expect(f.buf.subarray(0, f.length).equals(text)).toBe(true);
      expect(f.buf.length).toBeGreaterThan(size); // room for one more byte proves the read was whole
      f.close();
    }
  });

  it('follows a file that grows and shrinks under a kept descriptor, from offset 0 each time', () => {
    const path = file('cpu  1 2 3 4\n');
    const f = new ProcFile(path, true, 16);
    expect(f.read()).toBe(13);
    expect(fdsUnder(path)).toBe(1);
    const big = manyCpuStat(64);
    writeFileSync(path, big); // same inode, truncated and rewritten
    expect(f.read()).toBe(big.length);
    expect(f.buf.toString('latin1', 0, f.length)).toBe(big);
    writeFileSync(path, 'cpu  5 6 7 8\n');
    expect(f.buf.toString('latin1', 0, f.read())).toBe('cpu  5 6 7 8\n');
    f.close();
    expect(fdsUnder(path)).toBe(0);
  });

  it('without keepOpen, holds no descriptor between reads', () => {
    const path = file('abc');
    const f = new ProcFile(path, false);
    expect(f.read()).toBe(3);
    expect(fdsUnder(path)).toBe(0);
  });

  it.runIf(linux)('refuses a symlink in the last component (never follows a link it was not given)', () => {
    const f = procfs();
    f.write('real-stat', 'cpu  1 2 3 4\n');
    symlinkSync(join(f.root, 'real-stat'), join(f.root, 'stat'));
    expect(new ProcFile(join(f.root, 'stat')).read()).toBe(-1);
    // The reader falls back to os.cpus() instead of reading through the link: the machine's
    // times, which two successive readings give to within the ticks between them.
    const viaLink = readSystemCpuTimes(f.root);
    const fallback = readSystemCpuTimes(join(f.root, 'missing'));
    expect(viaLink).not.toStrictEqual({ busyS: 0.03, totalS: 0.1 });
    expect(fallback.totalS - viaLink.totalS).toBeGreaterThanOrEqual(0);
    expect(fallback.totalS - viaLink.totalS).toBeLessThan(1);
    expect(Math.abs(fallback.busyS - viaLink.busyS)).toBeLessThan(1);
  });

  it.runIf(linux)('answers -1, without throwing, once the process behind a kept /proc descriptor has exited', async () => {
    // Walked once the child runs its script: just after 'spawn' its RSS can be smaller than what
    // this (busy) process gains before the second walk, and the comparison below would mean nothing.
    const child = spawn(process.execPath, ['-e', "process.stdout.write('ready'); setTimeout(() => {}, 30000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    const f = new ProcFile(`/proc/${child.pid}/stat`);
    const st = {} as ProcStat;
    const n = f.read();
    expect(parseStatBytes(f.buf, n, st) && st.pid).toBe(child.pid);
    expect(fdsUnder(f.path)).toBe(1);
    child.kill();
    await exited(child);
    expect(f.read()).toBe(-1);
    expect(fdsUnder(f.path)).toBe(0);
  });
});

describe('TreeWalker: files kept from walk to walk', () => {
  it('leaves out a child that exits between the listing and the read, and closes the files of members that left', () => {
    const f = procfs();
    f.proc({ pid: 100, ppid: 1, utime: 10, stime: 0, vmRssKiB: 1000 });
    f.proc({ pid: 101, ppid: 100, utime: 20, stime: 0, vmRssKiB: 2000 });
    f.children(100, { 100: [101, 105] }); // 105 listed, but already gone: no stat
    f.children(101, { 101: [] });
    const w = new TreeWalker(f.root);
    cleanups.push(() => w.close());
    expect(w.walk(100)).toBe(2);
    expect(w.cpuTicks()).toBe(30);
    expect(w.rssBytes()).toBe(3000 * 1024);
    expect(fdsUnder(f.root)).toBe(6); // two stat, two status, two children lists
    f.remove(101);
    f.children(100, { 100: [105] });
    expect(w.walk(100)).toBe(1);
    expect(w.members.map((m) => m.pid)).toStrictEqual([100]);
    expect(w.cpuTicks()).toBe(10);
    expect(fdsUnder(f.root)).toBe(3); // 101's files closed; 100's stat, status and children list kept
    w.close();
    expect(fdsUnder(f.root)).toBe(0);
    expect(w.walk(4242)).toBe(0);
  });

  it.runIf(linux)('walks this process and a child, then drops the child once it has exited, without throwing', async () => {
    const w = new TreeWalker('/proc');
    cleanups.push(() => w.close());
    // Walked once the child runs its script: just after 'spawn' its RSS can be smaller than what
    // this (busy) process gains before the second walk, and the comparison below would mean nothing.
    const child = spawn(process.execPath, ['-e', "process.stdout.write('ready'); setTimeout(() => {}, 30000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    w.walk(process.pid);
    expect(w.members.map((m) => m.pid)).toContain(child.pid);
    const withChild = w.rssBytes();
    child.kill();
    await exited(child);
    w.walk(process.pid);
    expect(w.members.map((m) => m.pid)).not.toContain(child.pid);
    expect(w.rssBytes()).toBeLessThan(withChild);
  });
});

describe('ProcView: one read per sample, shared', () => {
  it('reads /proc/stat, meminfo and the tree once between begin() and end(), and afresh outside', () => {
    const f = procfs();
    f.stat([100, 0, 0, 100, 0, 0, 0, 0, 0, 0]);
    f.write('meminfo', 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n');
    f.proc({ pid: 100, ppid: 1, utime: 10, stime: 0, vmRssKiB: 1000 });
    f.children(100, { 100: [] });
    const v = acquireProcView(f.root);
    const other = acquireProcView(f.root);
    expect(other).toBe(v);
    const t = { busyS: 0, totalS: 0 };
    const m = { totalBytes: 0, availableBytes: 0, usedBytes: 0 };
    v.begin();
    expect(v.cpuTimes(t)).toBe(true);
    expect(t).toStrictEqual({ busyS: 1, totalS: 2 });
    expect(v.treeCpuS(100)).toBe(0.1);
    expect(v.treeRssBytes(100)).toBe(1000 * 1024);
    v.memInfo(m);
    f.stat([300, 0, 0, 100, 0, 0, 0, 0, 0, 0]);
    f.write('meminfo', 'MemTotal: 2000 kB\nMemAvailable: 500 kB\n');
    f.proc({ pid: 100, ppid: 1, utime: 50, stime: 0, vmRssKiB: 3000 });
    v.cpuTimes(t);
    v.memInfo(m);
    expect(t).toStrictEqual({ busyS: 1, totalS: 2 });
    expect(m.totalBytes).toBe(1000 * 1024);
    expect(v.treeCpuS(100)).toBe(0.1);
    expect(v.treeRssBytes(100)).toBe(1000 * 1024);
    v.end();
    v.cpuTimes(t);
    v.memInfo(m);
    expect(t).toStrictEqual({ busyS: 3, totalS: 4 });
    expect(m.totalBytes).toBe(2000 * 1024);
    expect(v.treeCpuS(100)).toBe(0.5);
    expect(v.treeRssBytes(100)).toBe(3000 * 1024);
    expect(fdsUnder(f.root)).toBeGreaterThan(0);
    releaseProcView(other);
    expect(fdsUnder(f.root)).toBeGreaterThan(0);
    releaseProcView(v);
    expect(fdsUnder(f.root)).toBe(0);
  });

  it.each(['machine', 'process'] as const)('a %s-mode tracker reads each file once per sample and closes them all on stop()', async (mode) => {
    const f = procfs();
    f.stat([100, 0, 0, 100, 0, 0, 0, 0, 0, 0]);
    f.write('meminfo', 'MemTotal: 8000000 kB\nMemFree: 1000 kB\nMemAvailable: 4000000 kB\n');
    f.proc({ pid: 100, ppid: 1, utime: 10, stime: 0, vmRssKiB: 1000 });
    f.proc({ pid: 101, ppid: 100, utime: 10, stime: 0, vmRssKiB: 1000 });
    f.children(100, { 100: [101] });
    f.children(101, { 101: [] });
    const empty = join(f.root, 'empty');
    let nowMs = 0;
    const t = new EmissionsTracker({
      saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', native: false, trackingMode: mode, pid: 100,
      procfsRoot: f.root, sysfsRoot: empty, devRoot: empty, clock: () => nowMs,
    });
    t.start();
    const reads = vi.spyOn(ProcFile.prototype, 'read');
    try {
      nowMs += 1500; // the utilisation columns are due (at most once a second)
      t.sample();
      const paths = reads.mock.contexts.map((c) => (c as ProcFile).path.slice(f.root.length + 1)).sort();
      expect(paths).toStrictEqual(
        mode === 'machine'
          ? ['meminfo', 'stat']
          : ['100/stat', '100/status', '100/task/100/children', '101/stat', '101/status', '101/task/101/children', 'meminfo', 'stat'],
      );
      reads.mockClear();
      nowMs += 100; // not due: the sample's own reads only
      t.sample();
      expect(reads.mock.contexts.map((c) => (c as ProcFile).path.slice(f.root.length + 1)).filter((p) => !p.includes('/')))
        .toStrictEqual(mode === 'machine' ? ['stat'] : []);
    } finally {
      reads.mockRestore();
    }
    expect(fdsUnder(f.root)).toBeGreaterThan(0);
    await t.stop();
    expect(fdsUnder(f.root)).toBe(0);
  });
});
