// Process mode: GPU energy attributed by the tracked tree's share of per-process SM utilisation.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nvmlSource, type NvmlSource, type NvmlSourceOptions } from '../../src/sources/nvml.js';
import { ProcFile } from '../../src/system/proc-file.js';
import { acquireProcView, releaseProcView } from '../../src/system/proc-view.js';
import { makeProcfs } from '../system/procfs-fixture.js';
import { FakeGpus, TWO_H200, fakeContext, fakeLibrary, nativeAddon } from './nvml-helpers.js';

const open: NvmlSource[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

function source(opts: NvmlSourceOptions = {}) {
  const { ctx, clock } = fakeContext('process');
  const s = nvmlSource(ctx, nativeAddon(), {
    libraryPath: fakeLibrary(),
    env: {},
    processSampleIntervalMs: 3_600_000,
    ...opts,
  });
  open.push(s);
  return { s, clock };
}

/** A source polling per-process samples every 5 ms in the background, on a clock that advances `msPerTick` per read. */
function polledSource(pidsOf: () => readonly number[], msPerTick: number) {
  let ticks = -1; // start() reads the clock once; each background poll once more
  const { ctx } = fakeContext('process');
  const s = nvmlSource({ ...ctx, nowMs: () => ++ticks * msPerTick }, nativeAddon(), {
    libraryPath: fakeLibrary(),
    env: {},
    pidsOf,
    processSampleIntervalMs: 5,
  });
  open.push(s);
  const twoPolls = async () => {
    const seen = ticks;
    const deadline = Date.now() + 5000;
    while (ticks < seen + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };
  return { s, twoPolls };
}

describe('nvmlSource in process mode', () => {
  it("attributes each interval's energy by the tree's share of SM utilisation", () => {
    const gpus = new FakeGpus({ ...TWO_H200, count: 1, '0.procs': '100:90,999:10', '0.procs_ts': 1000 });
    const { s } = source({ pidsOf: () => [100, 101] });
    expect(s.probe().ok).toBe(true);
    expect(s.scope).toBe('process');
    expect(s.boundaryNote).toBe("process mode: each GPU's energy x the tracked processes' share of per-process SM utilisation");
    s.start(); // samples up to ts 1000 predate the run and are dropped
    // 10 J; tree pids 100 + 101 have 30 + 10 of 100 SM-%: 40 %.
    gpus.set({ '0.energy_mj': 1_010_000, '0.procs': '100:30,101:10,999:60', '0.procs_ts': 2000 });
    expect(s.read()).toMatchObject({ energyJ: 4, devicesJ: { '0': 4 } });
    // Every process idle (0 % SM): equal split among the processes NVML saw (1 of 2 is ours).
    gpus.set({ '0.energy_mj': 1_018_000, '0.procs': '100:0,999:0', '0.procs_ts': 3000 });
    expect(s.read().energyJ).toBeCloseTo(8, 12);
    // No process on the GPU in the interval: nothing is ours.
    gpus.set({ '0.energy_mj': 1_030_000 });
    expect(s.read().energyJ).toBeCloseTo(8, 12);
  });

  it('sums the samples polled in the background between two reads', async () => {
    const gpus = new FakeGpus({ ...TWO_H200, count: 1 });
    const { s, twoPolls } = polledSource(() => [100], 1);
    s.start();
    gpus.set({ '0.procs': '100:50,200:0', '0.procs_ts': 20 });
    await twoPolls();
    // Read sees only the newer samples itself; the older ones came from the background poll.
    gpus.set({ '0.procs': '100:10,200:60', '0.procs_ts': 30, '0.energy_mj': 1_012_000 });
    expect(s.read().energyJ).toBeCloseTo(12 * ((50 + 10) / (50 + 0 + 10 + 60)), 12);
  });

  it('keeps attributing to a process that left the tree before the read (a finished GPU job)', async () => {
    // Found on a real H200: `wattprint run -- python job.py` reported 0 J of GPU in process mode,
    // because the job had exited by the final read and its pid was matched against the tree then.
    const gpus = new FakeGpus({ ...TWO_H200, count: 1 });
    let tree = [1, 100];
    const { s, twoPolls } = polledSource(() => tree, 1000); // a second per read: the tree is walked at each poll
    s.start();
    gpus.set({ '0.procs': '100:80,200:20', '0.procs_ts': 20 });
    await twoPolls();
    tree = [1]; // the job exited; pid 200 (another user's) never was ours
    gpus.set({ '0.energy_mj': 1_010_000 });
    expect(s.read().energyJ).toBeCloseTo(8, 12);
  });

  it("walks the tree through the sampler's shared view: once per sample with the other sources", () => {
    const f = makeProcfs();
    try {
      f.proc({ pid: 100, ppid: 1, utime: 10, stime: 0, vmRssKiB: 1000 });
      f.proc({ pid: 101, ppid: 100, utime: 10, stime: 0, vmRssKiB: 1000 });
      f.children(100, { 100: [101] });
      f.children(101, { 101: [] });
      const gpus = new FakeGpus({ ...TWO_H200, count: 1 });
      const { ctx } = fakeContext('process');
      const s = nvmlSource({ ...ctx, procfsRoot: f.root, pid: 100 }, nativeAddon(), {
        libraryPath: fakeLibrary(),
        env: {},
        processSampleIntervalMs: 3_600_000,
      });
      open.push(s);
      s.start();
      gpus.set({ '0.energy_mj': 1_010_000, '0.procs': '101:90,999:10', '0.procs_ts': 2000 });
      const view = acquireProcView(f.root);
      const reads = vi.spyOn(ProcFile.prototype, 'read');
      try {
        view.begin();
        expect(view.treeCpuS(100)).toBe(0.2); // the CPU source's walk of this sample
        expect(s.read().energyJ).toBeCloseTo(9, 12); // the child's 90 % of 10 J, from the same walk
        view.end();
        expect(reads.mock.contexts.filter((c) => (c as ProcFile).path.endsWith('101/stat'))).toHaveLength(1);
      } finally {
        reads.mockRestore();
        releaseProcView(view);
      }
    } finally {
      f.cleanup();
    }
  });

  it('attributes the whole device where NVML has no per-process data, and says so', () => {
    const gpus = new FakeGpus({ ...TWO_H200, '1.procs_error': 3, '0.procs': '100:100', '0.procs_ts': 1 });
    const { s } = source({ pidsOf: () => [100] });
    s.start();
    gpus.set({ '0.energy_mj': 1_005_000, '1.energy_mj': 2_007_000, '0.procs': '100:25,5:75', '0.procs_ts': 2 });
    expect(s.read().devicesJ).toEqual({ '0': 1.25, '1': 7 });
    expect(s.scope).toBe('process');
    expect(s.boundaryNote).toBe(
      "GPU 1: no per-process GPU data from NVML: whole device; process mode: each GPU's energy x the tracked processes' share of per-process SM utilisation",
    );
  });

  it('is machine scope when no GPU has per-process data (old driver)', () => {
    new FakeGpus({ count: 1, '0.power_mw': 1000 });
    const { s } = source({ libraryPath: fakeLibrary('minimal') });
    expect(s.probe().ok).toBe(true);
    expect(s.scope).toBe('machine');
    expect(s.boundaryNote).toContain('no per-process GPU data from NVML: whole device');
  });

  it('finds the tracked tree in procfs by default (ctx.pid and its children)', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const gpus = new FakeGpus({ ...TWO_H200, count: 1 });
      const { s } = source();
      s.start();
      gpus.set({ '0.energy_mj': 1_010_000, '0.procs': `${process.pid}:20,${child.pid}:20,999999:60`, '0.procs_ts': 5 });
      expect(s.read().energyJ).toBeCloseTo(4, 12);
    } finally {
      child.kill();
    }
  });
});
