import { afterEach, describe, expect, it } from 'vitest';
import { WattprintError } from '../../src/errors.js';
import { lookupCpuTdp } from '../../src/estimate/cpu-tdp.js';
import { cpuTdpSource } from '../../src/sources/cpu-tdp.js';
import table from '../../src/estimate/data/cpu-tdp.json' with { type: 'json' };
import type { CpuInfo } from '../../src/system/cpuinfo.js';
import type { SourceContext, TrackingMode } from '../../src/types.js';
import { makeProcfs } from '../system/procfs-fixture.js';

describe('CPU TDP table data', () => {
  it('keeps all 4903 rows of cpu_power.csv with numeric watts, repairing the 4 malformed cells', () => {
    const rows = table.rows as [string, number][];
    expect(rows).toHaveLength(4903);
    expect(rows.every(([n, w]) => typeof n === 'string' && n.length > 0 && Number.isFinite(w) && w >= 0)).toBe(true);
    const watts = Object.fromEntries(rows);
    expect(watts['Intel Celeron 1000A']).toBe(29.5);
    expect(watts['Intel Celeron 1200']).toBe(32.9);
    expect(watts['Intel Celeron 1400']).toBe(34.8);
    expect(watts['Intel Celeron 1300']).toBe(33.4);
    expect(rows[0]).toEqual(['1075T', 95]);
  });
});

describe('lookupCpuTdp', () => {
  it('rule 1: case-insensitive equality, first row on duplicates', () => {
    expect(lookupCpuTdp('intel xeon gold 6248')).toEqual({ name: 'Intel Xeon Gold 6248', tdpW: 150, match: 'exact' });
    expect(lookupCpuTdp('AMD EPYC 7763')).toEqual({ name: 'AMD EPYC 7763', tdpW: 280, match: 'exact' });
    // Both "Intel Core i5-750S" and "Intel Core i5-750s" are rows; the first wins.
    expect(lookupCpuTdp('INTEL CORE I5-750S')?.name).toBe('Intel Core i5-750S');
  });

  it('rule 2: after removing (R), " CPU @ ...", " CPU" and the clock', () => {
    expect(lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz')).toEqual({
      name: 'Intel Xeon Gold 6248',
      tdpW: 150,
      match: 'normalized',
    });
    expect(lookupCpuTdp('Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz')).toMatchObject({ name: 'Intel Xeon Gold 6248R', tdpW: 205 });
    expect(lookupCpuTdp('Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz')).toEqual({
      name: 'Intel Xeon E5-2686 v4',
      tdpW: 145,
      match: 'normalized',
    });
    expect(lookupCpuTdp('Intel(R) Xeon(R) Platinum 8480+')).toMatchObject({ name: 'Intel Xeon Platinum 8480+', tdpW: 350 });
  });

  it('rule 3: a unique token-set match (one token set contains the other)', () => {
    expect(lookupCpuTdp('AMD EPYC 7763 64-Core Processor')).toEqual({ name: 'AMD EPYC 7763', tdpW: 280, match: 'token-set' });
    expect(lookupCpuTdp('Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz')).toEqual({
      name: 'Intel Core i7-8550U',
      tdpW: 15,
      match: 'token-set',
    });
    expect(lookupCpuTdp('AMD Ryzen 9 5950X 16-Core Processor')).toMatchObject({ name: 'AMD Ryzen 9 5950X', tdpW: 105 });
    // The query's tokens are a subset of exactly one row's.
    expect(lookupCpuTdp('EPYC 7763')).toEqual({ name: 'AMD EPYC 7763', tdpW: 280, match: 'token-set' });
  });

  it('returns undefined for ambiguous token-set matches and unknown names', () => {
    expect(lookupCpuTdp('AMD EPYC')).toBeUndefined(); // 148 rows contain {amd, epyc}
    expect(lookupCpuTdp('Intel Xeon')).toBeUndefined();
    expect(lookupCpuTdp('Intel Core i7')).toBeUndefined();
    expect(lookupCpuTdp('Quantum Frobnicator 9000')).toBeUndefined();
    expect(lookupCpuTdp('AMD EPYC 7B13')).toBeUndefined(); // "7b13" is in no row
    expect(lookupCpuTdp('')).toBeUndefined();
    expect(lookupCpuTdp('(R) @ ')).toBeUndefined();
  });
});

describe('cpuTdpSource', () => {
  const fixtures: ReturnType<typeof makeProcfs>[] = [];
  afterEach(() => {
    while (fixtures.length > 0) fixtures.pop()!.cleanup();
  });

  function setup(trackingMode: TrackingMode, cpu: CpuInfo, tdpW?: number) {
    const f = makeProcfs();
    fixtures.push(f);
    let nowMs = 1000;
    const ctx: SourceContext = {
      sysfsRoot: '/sys', procfsRoot: f.root, devRoot: '/dev', trackingMode, pid: 100, nowMs: () => nowMs,
    };
    const source = cpuTdpSource(ctx, tdpW === undefined ? { cpu } : { cpu, tdpW });
    return { f, source, advance: (ms: number) => (nowMs += ms) };
  }
  const xeon: CpuInfo = { model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', threads: 80, sockets: 2, arch: 'x86_64' };
  const unknown: CpuInfo = { model: 'Quantum Frobnicator 9000', threads: 8, sockets: 2, arch: 'x86_64' };

  it('machine mode integrates TDP × sockets × (0.1 + 0.9 load³) from the first read after start', () => {
    const { f, source, advance } = setup('machine', xeon);
    expect(source).toMatchObject({ id: 'cpu-tdp', component: 'cpu', kind: 'estimated', scope: 'machine' });
    const probe = source.probe();
    expect(probe.ok).toBe(true);
    if (probe.ok) {
      expect(probe.devices[0]!.details).toMatchObject({ tdpW: 300, tdpPerSocketW: 150, matchedRow: 'Intel Xeon Gold 6248', tdpSource: 'table' });
      expect(probe.note).toContain('estimated');
    }
    f.stat([1000, 0, 0, 9000, 0, 0, 0, 0, 0, 0]);
    source.start();
    // +1000 ticks, 500 of them busy: load 0.5 over 2 s.
    f.stat([1500, 0, 0, 9500, 0, 0, 0, 0, 0, 0]);
    advance(2000);
    const first = source.read();
    const p1 = 300 * (0.1 + 0.9 * 0.5 ** 3);
    expect(first.energyJ).toBeCloseTo(p1 * 2, 9);
    expect(first.utilizationPercent).toBeCloseTo(50, 9);
    // Fully busy for 3 s.
    f.stat([2500, 0, 0, 9500, 0, 0, 0, 0, 0, 0]);
    advance(3000);
    const second = source.read();
    expect(second.energyJ).toBeCloseTo(p1 * 2 + 300 * 3, 9);
    expect(second.devicesJ).toEqual({ '0': second.energyJ });
    // Idle (iowait counts as idle) for 1 s: 10 % of TDP.
    f.stat([2500, 0, 0, 10000, 500, 0, 0, 0, 0, 0]);
    advance(1000);
    expect(source.read().energyJ).toBeCloseTo(p1 * 2 + 300 * 3 + 30, 9);
    // A read at the same instant adds nothing.
    expect(source.read().energyJ).toBeCloseTo(p1 * 2 + 300 * 3 + 30, 9);
  });

  it('unknown model: 4 W per thread, without a socket multiplier', () => {
    const { f, source, advance } = setup('machine', unknown);
    const probe = source.probe();
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ tdpW: 32, tdpSource: 'default 4 W/thread' });
    f.stat([0, 0, 0, 1000, 0, 0, 0, 0, 0, 0]);
    source.start();
    f.stat([1000, 0, 0, 1000, 0, 0, 0, 0, 0, 0]);
    advance(10_000);
    expect(source.read().energyJ).toBeCloseTo(32 * 10, 9);
  });

  it('a 0 W table row counts as unknown', () => {
    const { source } = setup('machine', { model: 'Intel Quark Microcontroller D1000', threads: 1, sockets: 1, arch: 'x86' });
    const probe = source.probe();
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ tdpW: 4, tdpSource: 'default 4 W/thread' });
  });

  it('forceCpuPowerW replaces the TDP, with no socket multiplier', () => {
    const { f, source, advance } = setup('machine', xeon, 100);
    const probe = source.probe();
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ tdpW: 100, tdpSource: 'forceCpuPowerW' });
    f.stat([0, 0, 0, 1000, 0, 0, 0, 0, 0, 0]);
    source.start();
    f.stat([0, 0, 0, 2000, 0, 0, 0, 0, 0, 0]);
    advance(4000);
    expect(source.read().energyJ).toBeCloseTo(100 * 0.1 * 4, 9);
  });

  it('process mode: TDP × the tree CPU-time share of all threads, clamped to [0, 1]', () => {
    const cpu: CpuInfo = { model: 'Intel Xeon Gold 6248', threads: 4, sockets: 1, arch: 'x86_64' };
    const { f, source, advance } = setup('process', cpu);
    expect(source.scope).toBe('process');
    f.proc({ pid: 100, ppid: 1, utime: 1000, stime: 0, vmRssKiB: 1 });
    f.proc({ pid: 101, ppid: 100, utime: 0, stime: 0, vmRssKiB: 1 });
    source.start();
    // 2 CPU-seconds (root 1.5 s + child 0.5 s) in 1 s of wall time on 4 threads: half the TDP.
    f.proc({ pid: 100, ppid: 1, utime: 1150, stime: 0, vmRssKiB: 1 });
    f.proc({ pid: 101, ppid: 100, utime: 0, stime: 50, vmRssKiB: 1 });
    advance(1000);
    const r1 = source.read();
    expect(r1.energyJ).toBeCloseTo(150 * 0.5 * 1, 9);
    expect(r1.utilizationPercent).toBeCloseTo(50, 9);
    // 10 CPU-seconds in 1 s cannot exceed the whole machine.
    f.proc({ pid: 100, ppid: 1, utime: 2150, stime: 0, vmRssKiB: 1 });
    advance(1000);
    expect(source.read().energyJ).toBeCloseTo(75 + 150, 9);
    // The child leaves the tree without being reaped: the total drops, the energy does not.
    f.remove(101);
    advance(1000);
    expect(source.read().energyJ).toBeCloseTo(75 + 150, 9);
  });

  it('read() before start() is a STATE error', () => {
    const { source } = setup('machine', xeon);
    expect(() => source.read()).toThrow(WattprintError);
    try {
      source.read();
    } catch (e) {
      expect((e as WattprintError).code).toBe('STATE');
    }
  });
});
