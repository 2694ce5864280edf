import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WattprintError } from '../../src/errors.js';
import { raplCpuSource, raplRamSource, type RaplSourceOptions } from '../../src/sources/rapl.js';
import type { SourceContext } from '../../src/types.js';
import { EU, type FakeSystem, type TreeSpec } from '../fixtures/powercap/tree.js';
import { exactUj, fakeContext, native, READERS, warnings, type ReaderKind, useFakeSystems } from './rapl-helpers.js';

const build = useFakeSystems();

const TWO_32 = 2 ** 32;

/** Deterministic pseudo-random counts (xorshift), so failures reproduce. */
function counts(seed: number, n: number, max: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  });
}

describe.each(READERS)('RAPL sources (%s reader)', (kind: ReaderKind) => {
  const opts = (extra: RaplSourceOptions = {}): RaplSourceOptions => ({ reader: kind, msr: false, ...extra });
  const cpu = (ctx: SourceContext, extra?: RaplSourceOptions) => raplCpuSource(ctx, native, opts(extra));
  const ram = (ctx: SourceContext, extra?: RaplSourceOptions) => raplRamSource(ctx, native, opts(extra));

  it('sums two sockets while the counters move and wrap several times, exact to the microjoule', () => {
    const sys = build({
      rapl: [
        { name: 'package-0', raw: TWO_32 - 5_000_000, maxPowerUw: [125_000_000] },
        { name: 'package-1', raw: 17, maxPowerUw: [125_000_000] },
      ],
    });
    const { ctx, clock } = fakeContext(sys);
    const src = cpu(ctx);
    const probe = src.probe();
    expect(probe.ok).toBe(true);
    if (!probe.ok) return;
    expect(probe.devices.map((d) => d.id)).toEqual(['package-0', 'package-1']);
    expect(probe.devices[0]!.details).toMatchObject({ method: 'powercap', reader: kind, energyUnitNj: 61035, maxPowerW: 125 });
    expect(src.kind).toBe('measured');
    expect(src.component).toBe('cpu');
    expect(src.id).toBe('rapl');
    src.start();

    const z0 = sys.zone('intel-rapl:0');
    const z1 = sys.zone('intel-rapl:1');
    // Steps of up to 0.9 of the counter's period: each read sees at most one wrap, and over
    // 40 reads each counter wraps many times.
    const steps0 = counts(7, 40, Math.floor(0.9 * TWO_32));
    const steps1 = counts(11, 40, Math.floor(0.9 * TWO_32));
    let wraps0 = 0;
    let previous = 0;
    for (let i = 0; i < steps0.length; i++) {
      const before = z0.raw;
      z0.addRaw(steps0[i]!);
      z1.addRaw(steps1[i]!);
      if (z0.raw < before) wraps0++;
      // Physically possible: 0.9 of the 262 kJ period takes 944 s at the 250 W bound.
      clock.ms += 1_000_000;
      const r = src.read();
      expect(r.energyJ).toBeGreaterThanOrEqual(previous);
      previous = r.energyJ;
    }
    expect(wraps0).toBeGreaterThan(5);
    const r = src.read();
    const want0 = exactUj(z0.addedRaw, EU.core);
    const want1 = exactUj(z1.addedRaw, EU.core);
    expect(Math.abs(r.devicesJ!['package-0']! * 1e6 - want0)).toBeLessThan(0.01);
    expect(Math.abs(r.devicesJ!['package-1']! * 1e6 - want1)).toBeLessThan(0.01);
    expect(Math.abs(r.energyJ * 1e6 - (want0 + want1))).toBeLessThan(0.02);
  });

  it('counts a DRAM domain with the 15.3 µJ server unit across wraps', () => {
    const sys = build({
      rapl: [{ name: 'package-0', children: [{ name: 'core' }, { name: 'dram', euNj: EU.serverDram, raw: TWO_32 - 10 }] }],
    });
    const { ctx, clock } = fakeContext(sys);
    const src = ram(ctx);
    expect(src.id).toBe('rapl-dram');
    expect(src.component).toBe('ram');
    const probe = src.probe();
    expect(probe.ok && probe.devices.map((d) => d.id)).toEqual(['package-0/dram']);
    src.start();
    const dram = sys.zone('intel-rapl:0:1');
    for (const c of [11, 3_000_000_000, 2_000_000_000, 4_000_000_000, 123]) {
      dram.addRaw(c);
      clock.ms += 65_000; // 4e9 counts of 15.3 µJ take 61 s at the 1000 W bound
      src.read();
    }
    expect(Math.abs(src.read().energyJ * 1e6 - exactUj(dram.addedRaw, EU.serverDram))).toBeLessThan(0.01);
  });

  it('counts an MMIO duplicate of package-0 once, reading the MMIO copy', () => {
    const sys = build({ rapl: [{ name: 'package-0' }], mmio: [{ name: 'package-0' }] });
    const { ctx, clock } = fakeContext(sys);
    const src = cpu(ctx);
    const probe = src.probe();
    expect(probe.ok && probe.devices).toHaveLength(1);
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ zone: 'intel-rapl-mmio:0', mmio: true });
    src.start();
    sys.zone('intel-rapl:0').addRaw(1_000_000);
    sys.zone('intel-rapl-mmio:0').addRaw(2_000_000);
    clock.ms += 1000;
    expect(Math.abs(src.read().energyJ * 1e6 - exactUj(2_000_000n, EU.core))).toBeLessThan(0.01);
  });

  it('ignores core and uncore subzones and psys when packages exist', () => {
    const sys = build({ rapl: [{ name: 'package-0', children: [{ name: 'core' }, { name: 'uncore' }] }, { name: 'psys' }] });
    const { ctx, clock } = fakeContext(sys);
    const src = cpu(ctx);
    src.probe();
    src.start();
    sys.zone('intel-rapl:0:0').addRaw(5_000_000);
    sys.zone('intel-rapl:0:1').addRaw(5_000_000);
    sys.zone('intel-rapl:1').addRaw(9_000_000);
    sys.zone('intel-rapl:0').addRaw(1_234_567);
    clock.ms += 1000;
    const r = src.read();
    expect(Object.keys(r.devicesJ!)).toEqual(['package-0']);
    expect(Math.abs(r.energyJ * 1e6 - exactUj(1_234_567n, EU.core))).toBeLessThan(0.01);
    expect(src.boundaryNote).toBeUndefined();
  });

  it('falls back to psys where there is no package domain, and says so', () => {
    const sys = build({ rapl: [{ name: 'psys', maxPowerUw: [28_000_000] }] });
    const { ctx, clock } = fakeContext(sys);
    const src = cpu(ctx);
    expect(src.probe()).toMatchObject({ ok: true, devices: [{ id: 'psys' }] });
    expect(src.boundaryNote).toMatch(/psys/);
    src.start();
    sys.zone('intel-rapl:0').addRaw(4242);
    clock.ms += 1000;
    expect(Math.abs(src.read().energyJ * 1e6 - exactUj(4242n, EU.core))).toBeLessThan(0.01);
  });

  it('shortens the read interval so no counter can wrap twice', () => {
    // Kernel max power 125 W; bursts bounded at twice that; half the wrap time.
    const sys = build({ rapl: [{ name: 'package-0', maxPowerUw: [125_000_000, 0] }, { name: 'package-1' }] });
    const { ctx } = fakeContext(sys);
    const src = cpu(ctx);
    expect(src.maxReadIntervalMs).toBeUndefined();
    src.probe();
    const periodJ = TWO_32 * 61035e-9;
    // package-1 exposes no constraint: 1000 W bound, the shorter of the two.
    expect(src.maxReadIntervalMs).toBeCloseTo(((periodJ / 1000) * 1000) / 2, 6);
    const single = build({ rapl: [{ name: 'package-0', maxPowerUw: [125_000_000, 0] }] });
    const s2 = cpu(fakeContext(single).ctx);
    s2.probe();
    expect(s2.maxReadIntervalMs).toBeCloseTo(((periodJ / 250) * 1000) / 2, 6);
    expect(s2.maxReadIntervalMs! / 1000).toBeGreaterThan(500);
    const dram = build({ rapl: [{ name: 'package-0', children: [{ name: 'dram', euNj: EU.serverDram }] }] });
    const s3 = ram(fakeContext(dram).ctx, { fallbackMaxPowerW: 200 });
    s3.probe();
    expect(s3.maxReadIntervalMs).toBeCloseTo((((TWO_32 * 15300e-9) / 200) * 1000) / 2, 6);
  });

  it('takes the counter of a non-RAPL powercap zone at face value (wraps after max_energy_range_uj)', () => {
    const sys = build({ rapl: [{ name: 'package-0', rangeUj: 999_999, euNj: 1000, raw: 0 }] });
    const { ctx, clock } = fakeContext(sys);
    const file = sys.zone('intel-rapl:0').energyFile;
    writeFileSync(file, '999000\n');
    const src = cpu(ctx);
    src.probe();
    src.start();
    for (const uj of [999_999, 10, 500_000, 2]) {
      writeFileSync(file, `${uj}\n`);
      clock.ms += 1000;
      src.read();
    }
    // 999 + 11 + 499_990 + 500_002 µJ.
    expect(Math.round(src.read().energyJ * 1e6)).toBe(1_001_002);
  });

  it('keeps the last total of a zone that disappears, warns once, and counts across a short gap', () => {
    const sys = build({ rapl: [{ name: 'package-0' }, { name: 'package-1' }] });
    const { ctx, clock } = fakeContext(sys);
    const w = warnings();
    const src = cpu(ctx, { onWarning: w.onWarning });
    src.probe();
    src.start();
    const z0 = sys.zone('intel-rapl:0');
    const z1 = sys.zone('intel-rapl:1');
    z0.addRaw(1_000_000);
    z1.addRaw(1_000_000);
    clock.ms += 1000;
    src.read();
    const hidden = `${z0.energyFile}.hidden`;
    renameSync(z0.energyFile, hidden);
    z1.addRaw(500_000);
    for (let i = 0; i < 3; i++) {
      clock.ms += 1000;
      const r = src.read();
      expect(Math.abs(r.devicesJ!['package-0']! * 1e6 - exactUj(1_000_000n, EU.core))).toBeLessThan(0.01);
    }
    expect(w.list.filter((x) => x.code === 'RAPL_READ')).toHaveLength(1);
    expect(w.list[0]).toMatchObject({ component: 'cpu' });
    expect(w.list[0]!.message).toContain(join(sys.powercapRoot, 'intel-rapl', 'intel-rapl:0', 'energy_uj'));
    expect(w.list[0]!.message).toContain('ENOENT');
    // Back within the safe interval: the energy used meanwhile is counted.
    renameSync(hidden, z0.energyFile);
    z0.addRaw(3_000_000);
    clock.ms += 1000;
    const r = src.read();
    expect(Math.abs(r.devicesJ!['package-0']! * 1e6 - exactUj(4_000_000n, EU.core))).toBeLessThan(0.01);
    expect(Math.abs(r.devicesJ!['package-1']! * 1e6 - exactUj(1_500_000n, EU.core))).toBeLessThan(0.01);
  });

  it('restarts counting a zone that comes back after a gap longer than the safe interval', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const { ctx, clock } = fakeContext(sys);
    const w = warnings();
    const src = cpu(ctx, { onWarning: w.onWarning });
    src.probe();
    src.start();
    const z = sys.zone('intel-rapl:0');
    z.addRaw(100);
    clock.ms += 1000;
    src.read();
    rmSync(z.energyFile);
    clock.ms += 1000;
    src.read();
    clock.ms += src.maxReadIntervalMs! + 1;
    z.addRaw(2 ** 31);
    z.write();
    src.read();
    z.addRaw(50);
    clock.ms += 1000;
    expect(Math.abs(src.read().energyJ * 1e6 - exactUj(150n, EU.core))).toBeLessThan(0.01);
    expect(w.list.map((x) => x.code)).toEqual(['RAPL_READ', 'RAPL_GAP']);
  });

  it('warns when two reads are further apart than a counter takes to wrap', () => {
    const sys = build({ rapl: [{ name: 'package-0', maxPowerUw: [100_000_000] }] });
    const { ctx, clock } = fakeContext(sys);
    const w = warnings();
    const src = cpu(ctx, { onWarning: w.onWarning });
    src.probe();
    src.start();
    clock.ms += 2 * src.maxReadIntervalMs! + 1;
    src.read();
    expect(w.list.map((x) => x.code)).toEqual(['RAPL_GAP']);
  });

  it('never throws from read() when every zone fails', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const { ctx, clock } = fakeContext(sys);
    const src = cpu(ctx);
    src.probe();
    src.start();
    sys.zone('intel-rapl:0').addRaw(10);
    clock.ms += 1000;
    const first = src.read().energyJ;
    rmSync(sys.zone('intel-rapl:0').dir, { recursive: true });
    clock.ms += 1000;
    expect(src.read().energyJ).toBe(first);
  });

  it('attributes energy by the tree share of busy CPU time in process mode', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const { ctx, clock } = fakeContext(sys, 'process');
    // [tree CPU s, busy s, total s] at start and after each interval.
    const script = [
      [10, 100, 400],
      [11, 104, 408], // share 1/4, util 50 %
      [13, 106, 416], // share 1, util 25 %
      [13, 106, 424], // nothing busy: nobody is attributed the idle energy
      [12, 110, 432], // tree shrank (a child exited): share 0, never negative
    ];
    let i = 0;
    const cpuTime = {
      treeCpuS: () => script[i]![0],
      systemCpuTimes: () => ({ busyS: script[i]![1]!, totalS: script[i]![2]! }),
    };
    const src = cpu(ctx, { cpuTime });
    expect(src.scope).toBe('process');
    src.probe();
    expect(src.boundaryNote).toMatch(/share of busy CPU time/);
    src.start();
    const z = sys.zone('intel-rapl:0');
    const steps = [4_000_000, 1_000_000, 2_000_000, 3_000_000];
    const shares = [0.25, 1, 0, 0];
    const utils = [50, 25, 0, 50];
    let want = 0;
    for (let k = 0; k < steps.length; k++) {
      i = k + 1;
      z.addRaw(steps[k]!);
      clock.ms += 1000;
      const r = src.read();
      want += exactUj(BigInt(steps[k]!), EU.core) * shares[k]!;
      expect(Math.abs(r.energyJ * 1e6 - want)).toBeLessThan(0.01);
      expect(r.utilizationPercent).toBeCloseTo(utils[k]!, 9);
    }
  });

  it('attributes through /proc when no CPU-time probe is injected', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const { ctx, clock } = fakeContext(sys, 'process');
    const pid = 4321;
    const procStat = (utime: number) =>
      `${pid} (node worker) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 ${utime} 0 0 0 20 0 1 0 100 1000 50 0\n`;
    const write = (treeTicks: number, busyTicks: number, idleTicks: number) => {
      mkdirSync(join(sys.procfsRoot, String(pid)), { recursive: true });
      writeFileSync(join(sys.procfsRoot, String(pid), 'stat'), procStat(treeTicks));
      writeFileSync(join(sys.procfsRoot, 'stat'), `cpu  ${busyTicks} 0 0 ${idleTicks} 0 0 0 0 0 0\n`);
    };
    write(100, 1000, 5000);
    const src = raplCpuSource({ ...ctx, pid }, native, opts());
    src.probe();
    src.start();
    write(150, 1200, 5200); // tree 0.5 s of 2 s busy
    sys.zone('intel-rapl:0').addRaw(8_000_000);
    clock.ms += 1000;
    const r = src.read();
    expect(Math.abs(r.energyJ * 1e6 - exactUj(8_000_000n, EU.core) * 0.25)).toBeLessThan(0.01);
    expect(r.utilizationPercent).toBeCloseTo(50, 9);
  });

  it('reports NOT_PRESENT without zones, and without a DRAM domain', () => {
    const empty = build({});
    const p = cpu(fakeContext(empty).ctx).probe();
    expect(p).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!p.ok && p.reason).toContain(empty.powercapRoot);
    const noDram = build({ rapl: [{ name: 'package-0', children: [{ name: 'core' }] }] });
    const q = ram(fakeContext(noDram).ctx).probe();
    expect(q).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!q.ok && q.reason).toMatch(/no DRAM domain among the 2 RAPL zones/);
  });

  it('recognises a container that masks /sys/devices/virtual/powercap and gives the mount fix', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    rmSync(join(sys.sysfsRoot, 'devices/virtual/powercap'), { recursive: true });
    const p = cpu(fakeContext(sys).ctx).probe();
    expect(p).toMatchObject({ ok: false, code: 'MASKED' });
    expect(!p.ok && p.fix).toContain('-v /sys:/host/sys:ro -e WATTPRINT_SYSFS_ROOT=/host/sys');
  });

  it('reports READ_ERROR naming the file when a selected zone cannot be read', () => {
    const sys = build({ rapl: [{ name: 'package-0' }, { name: 'package-1' }] });
    rmSync(sys.zone('intel-rapl:1').energyFile);
    const p = cpu(fakeContext(sys).ctx).probe();
    expect(p).toMatchObject({ ok: false, code: 'READ_ERROR' });
    expect(!p.ok && p.reason).toBe(`ENOENT reading ${join(sys.powercapRoot, 'intel-rapl', 'intel-rapl:1', 'energy_uj')}`);
  });

  it('enforces the lifecycle: read before start, start after a failed probe', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const src = cpu(fakeContext(sys).ctx);
    expect(() => src.read()).toThrow(WattprintError);
    const none = cpu(fakeContext(build({})).ctx);
    expect(none.probe().ok).toBe(false);
    expect(() => none.start()).toThrow(/no RAPL zones/);
    try {
      none.start();
    } catch (e) {
      expect((e as WattprintError).code).toBe('RAPL_UNAVAILABLE');
    }
  });
});

describe('reader choice', () => {
  it('uses the fs reader when the addon is missing, and refuses a forced native reader', () => {
    const sys = build({ rapl: [{ name: 'package-0' }] });
    const { ctx } = fakeContext(sys);
    const p = raplCpuSource(ctx, {}, { msr: false }).probe();
    expect(p.ok && p.devices[0]!.details).toMatchObject({ reader: 'fs' });
    expect(p.ok && p.note).toMatch(/powercap via fs/);
    expect(raplCpuSource(ctx, {}, { reader: 'native' }).probe()).toMatchObject({ ok: false, code: 'NATIVE_UNAVAILABLE' });
    const q = raplCpuSource(ctx, native).probe();
    expect(q.ok && q.devices[0]!.details).toMatchObject({ reader: 'native' });
  });
});
