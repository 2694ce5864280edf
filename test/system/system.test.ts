import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { readCpuInfo } from '../../src/system/cpuinfo.js';
import { readMemInfo } from '../../src/system/meminfo.js';
import { readSystemCpuTimes } from '../../src/system/procstat.js';
import {
  parseProcStat,
  processTreeCpuS,
  processTreePids,
  processTreeRssBytes,
} from '../../src/system/proctree.js';
import { makeProcfs } from './procfs-fixture.js';

const fixtures: ReturnType<typeof makeProcfs>[] = [];
function procfs() {
  const f = makeProcfs();
  fixtures.push(f);
  return f;
}
afterEach(() => {
  while (fixtures.length > 0) fixtures.pop()!.cleanup();
});

/** An x86 /proc/cpuinfo: `sockets` × `cores` cores with 2 hyper-threads each. */
function x86CpuInfo(model: string, sockets: number, cores: number): string {
  const blocks: string[] = [];
  let n = 0;
  for (let s = 0; s < sockets; s++)
    for (let ht = 0; ht < 2; ht++)
      for (let c = 0; c < cores; c++)
        blocks.push(
          [`processor\t: ${n++}`, 'vendor_id\t: GenuineIntel', `model name\t: ${model}`, `physical id\t: ${s}`,
            `siblings\t: ${cores * 2}`, `core id\t\t: ${c}`, `cpu cores\t: ${cores}`, 'flags\t\t: fpu vme'].join('\n'),
        );
  return blocks.join('\n\n') + '\n';
}

describe('readCpuInfo', () => {
  it('reads model, threads, sockets and physical cores of a 2-socket x86 host', () => {
    const f = procfs();
    f.write('cpuinfo', x86CpuInfo('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 2, 20));
    const info = readCpuInfo(f.root);
    expect(info).toMatchObject({
      model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
      threads: 80,
      sockets: 2,
      physicalCores: 40,
    });
    expect(info.arch).toBe(os.machine());
  });

  it('falls back to Hardware, then Processor, on ARM kernels without "model name"', () => {
    const f = procfs();
    const cpu = (n: number) => `processor\t: ${n}\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n`;
    f.write('cpuinfo', `${cpu(0)}\n${cpu(1)}\n${cpu(2)}\n${cpu(3)}\nHardware\t: BCM2835\nRevision\t: c03111\n`);
    expect(readCpuInfo(f.root)).toMatchObject({ model: 'BCM2835', threads: 4, sockets: 1 });
    expect(readCpuInfo(f.root).physicalCores).toBeUndefined();

    f.write('cpuinfo', `Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\nprocessor\t: 1\n`);
    expect(readCpuInfo(f.root)).toMatchObject({ model: 'ARMv7 Processor rev 4 (v7l)', threads: 2, sockets: 1 });
  });

  it('uses os.cpus() where /proc/cpuinfo is missing', () => {
    const f = procfs();
    const info = readCpuInfo(f.root);
    expect(info.model).toBe(os.cpus()[0]!.model.trim());
    expect(info.threads).toBe(os.cpus().length);
    expect(info.sockets).toBe(1);
  });
});

describe('readSystemCpuTimes', () => {
  it('sums user..steal, leaves guest out, and counts idle + iowait as not busy', () => {
    const f = procfs();
    // user nice system idle iowait irq softirq steal guest guest_nice
    f.stat([100, 20, 30, 400, 50, 6, 7, 8, 9, 10]);
    const t = readSystemCpuTimes(f.root)!;
    expect(t.totalS).toBeCloseTo((100 + 20 + 30 + 400 + 50 + 6 + 7 + 8) / 100, 12);
    expect(t.busyS).toBeCloseTo((100 + 20 + 30 + 6 + 7 + 8) / 100, 12);
  });

  it('falls back to os.cpus() without /proc/stat', () => {
    const t = readSystemCpuTimes(procfs().root)!;
    expect(t.totalS).toBeGreaterThan(0);
    expect(t.busyS).toBeGreaterThanOrEqual(0);
    expect(t.busyS).toBeLessThanOrEqual(t.totalS);
  });
});

describe('readMemInfo', () => {
  it('reads MemTotal and MemAvailable in bytes', () => {
    const f = procfs();
    f.write('meminfo', 'MemTotal:       65536000 kB\nMemFree:         1000000 kB\nMemAvailable:   40000000 kB\nBuffers:  10 kB\n');
    expect(readMemInfo(f.root)).toMatchObject({ totalBytes: 65536000 * 1024, availableBytes: 40000000 * 1024 });
  });

  it("computes psutil's `used` (CodeCarbon's ram_used_gb): total − free − buffers − cached − SReclaimable", () => {
    const f = procfs();
    f.write(
      'meminfo',
      [
        'MemTotal:       24683792 kB', 'MemFree:        12123368 kB', 'MemAvailable:   19226832 kB', 'Buffers:           24900 kB',
        'Cached:          6178428 kB', 'SwapCached:            0 kB', 'Shmem:              9756 kB', 'KReclaimable:     216604 kB',
        'Slab:             257012 kB', 'SReclaimable:     216604 kB', 'SUnreclaim:        40408 kB', '',
      ].join('\n'),
    );
    const m = readMemInfo(f.root);
    // psutil: 24683792 − 12123368 − (6178428 + 216604) − 24900 = 6140492 kB; total − available is 5456960 kB.
    expect(m.usedBytes).toBe(6140492 * 1024);
    expect(m.totalBytes - m.availableBytes).toBe(5456960 * 1024);
  });

  it('uses total − free when the psutil formula goes negative (containers), and no SReclaimable without Cached', () => {
    const f = procfs();
    f.write('meminfo', 'MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 700 kB\nBuffers: 100 kB\nCached: 600 kB\nSReclaimable: 50 kB\n');
    expect(readMemInfo(f.root).usedBytes).toBe(600 * 1024);
    f.write('meminfo', 'MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 700 kB\nBuffers: 100 kB\nSReclaimable: 50 kB\n');
    expect(readMemInfo(f.root).usedBytes).toBe(500 * 1024);
  });

  it('uses MemFree + Buffers + Cached on kernels without MemAvailable', () => {
    const f = procfs();
    f.write('meminfo', 'MemTotal: 8000 kB\nMemFree: 1000 kB\nBuffers: 200 kB\nCached: 300 kB\n');
    expect(readMemInfo(f.root)).toMatchObject({ totalBytes: 8000 * 1024, availableBytes: 1500 * 1024 });
  });

  it('falls back to os.totalmem() without /proc/meminfo', () => {
    expect(readMemInfo(procfs().root).totalBytes).toBe(os.totalmem());
  });
});

describe('process tree', () => {
  /** 100 → {101 → {102}, 103}; 200 is unrelated; comm names with spaces and parentheses. */
  function tree() {
    const f = procfs();
    f.proc({ pid: 1, ppid: 0, comm: 'init', utime: 5000, stime: 5000, vmRssKiB: 9000 });
    f.proc({ pid: 100, ppid: 1, utime: 300, stime: 100, cutime: 40, cstime: 10, vmRssKiB: 200_000 });
    f.proc({ pid: 101, ppid: 100, comm: 'my (weird) app) 7 8', utime: 250, stime: 50, vmRssKiB: 100_000 });
    f.proc({ pid: 102, ppid: 101, comm: 'a b', utime: 70, stime: 30, cutime: 5, cstime: 5, rssPages: 1000 });
    f.proc({ pid: 103, ppid: 100, comm: ')', utime: 20, stime: 0, vmRssKiB: 50_000 });
    f.proc({ pid: 200, ppid: 1, utime: 9999, stime: 9999, vmRssKiB: 777_777 });
    f.write('self', 'not a pid');
    return f;
  }

  it('parses stat lines whose command contains spaces and parentheses', () => {
    const s = parseProcStat('101 (my (weird) app) 7 8) S 100 101 101 0 -1 0 0 0 0 0 250 50 1 2 20 0 1 0 5 6 300 9')!;
    expect(s).toEqual({ pid: 101, ppid: 100, utime: 250, stime: 50, cutime: 1, cstime: 2, rssPages: 300 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('finds the root and every descendant, and nothing else', () => {
    const f = tree();
    expect(processTreePids(100, f.root).sort((a, b) => a - b)).toEqual([100, 101, 102, 103]);
    expect(processTreePids(101, f.root).sort((a, b) => a - b)).toEqual([101, 102]);
    expect(processTreePids(4242, f.root)).toEqual([]);
  });

  it("follows the kernel's per-thread children lists where they exist", () => {
    const f = tree();
    // Children lists on every member: 102 was forked by thread 1011 of 101; 300 claims ppid 100 in
    // its stat but is in no list, so the lists are what was read.
    f.children(100, { 100: [101, 103], 104: [] });
    f.children(101, { 101: [], 1011: [102] });
    f.children(102, { 102: [] });
    f.children(103, { 103: [] });
    f.proc({ pid: 300, ppid: 100, utime: 1, stime: 1 });
    expect(processTreePids(100, f.root).sort((a, b) => a - b)).toEqual([100, 101, 102, 103]);
    // A member without lists (kernel without CONFIG_PROC_CHILDREN): back to the ppid scan.
    f.remove(103);
    f.proc({ pid: 103, ppid: 100, utime: 20, stime: 0 });
    expect(processTreePids(100, f.root).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 300]);
  });

  it('sums utime + stime + cutime + cstime of live members in seconds', () => {
    const f = tree();
    const ticks = 300 + 100 + 40 + 10 + (250 + 50) + (70 + 30 + 5 + 5) + 20;
    expect(processTreeCpuS(100, f.root)).toBeCloseTo(ticks / 100, 12);
    expect(processTreeCpuS(4242, f.root)).toBeUndefined();
  });

  it('keeps a reaped child counted once: its time moves into the parent cutime/cstime', () => {
    const f = tree();
    const before = processTreeCpuS(100, f.root)!;
    // 101 reaps 102 (utime 70 + cutime 5 → cutime; stime 30 + cstime 5 → cstime), then exits and 100 reaps it.
    f.remove(102);
    f.proc({ pid: 101, ppid: 100, utime: 250, stime: 50, cutime: 75, cstime: 35, vmRssKiB: 100_000 });
    expect(processTreeCpuS(100, f.root)).toBeCloseTo(before, 12);
    f.remove(101);
    f.proc({ pid: 100, ppid: 1, utime: 300, stime: 100, cutime: 40 + 250 + 75, cstime: 10 + 50 + 35, vmRssKiB: 200_000 });
    expect(processTreeCpuS(100, f.root)).toBeCloseTo(before, 12);
    expect(processTreePids(100, f.root).sort((a, b) => a - b)).toEqual([100, 103]);
  });

  it('sums VmRSS of live members, with stat rss × 4096 where status is missing', () => {
    const f = tree();
    expect(processTreeRssBytes(100, f.root)).toBe((200_000 + 100_000 + 50_000) * 1024 + 1000 * 4096);
    expect(processTreeRssBytes(4242, f.root)).toBeUndefined();
  });

  it('falls back to the current process where procfs is missing', () => {
    const missing = '/nonexistent-procfs-for-wattprint';
    expect(processTreePids(process.pid, missing)).toEqual([process.pid]);
    expect(processTreeCpuS(process.pid, missing)).toBeGreaterThan(0);
    expect(processTreeRssBytes(process.pid, missing)).toBeGreaterThan(0);
    expect(processTreeCpuS(process.pid + 1, missing)).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('reads the real /proc for this process', () => {
    expect(parseProcStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))?.pid).toBe(process.pid);
    expect(processTreePids(process.pid)).toContain(process.pid);
    expect(processTreeRssBytes(process.pid)).toBeGreaterThan(10 * 1024 * 1024);
  });

  it.runIf(process.platform === 'linux')('includes a live child process of this process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      expect(processTreePids(process.pid)).toContain(child.pid);
      expect(processTreeRssBytes(process.pid)!).toBeGreaterThan(processTreeRssBytes(child.pid!)!);
    } finally {
      child.kill();
    }
  });
});
