import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFs, type FsLike } from '../../src/sources/powercap.js';
import { raplCpuSource, raplRamSource, type RaplSourceOptions } from '../../src/sources/rapl.js';
import { fsMsrReader, MSR, nativeMsrReader, readCpuIdentity, socketLeadCpus } from '../../src/sources/rapl-msr.js';
import { FakeMsrCounter, writeMsr, type FakeSystem, type TreeSpec } from '../fixtures/powercap/tree.js';
import { fakeContext, native, raplBinding, READERS, type ReaderKind, useFakeSystems } from './rapl-helpers.js';

const build = useFakeSystems();

/** Unit MSR as Intel ships it: power 1/8 W, ESU 14 (61 µJ), time 976 µs. */
const INTEL_UNITS = 0xa0e03n;
/** AMD Zen: ESU 16 (15.3 µJ). */
const AMD_UNITS = 0xa1003n;
const TWO_32 = 2 ** 32;

function intel(model: number, sockets: number[]): FakeSystem {
  const sys = build({ cpu: { vendor: 'GenuineIntel', family: 6, model }, cpuSockets: sockets });
  sockets.forEach((_, cpu) => writeMsr(sys.devRoot, cpu, MSR.RAPL_POWER_UNIT, INTEL_UNITS));
  return sys;
}

describe.each(READERS)('RAPL MSR path (%s reader)', (kind: ReaderKind) => {
  const opts: RaplSourceOptions = { reader: kind };

  it('reads one CPU per socket and sums Intel package counters across wraps, masking reserved bits', () => {
    const sys = intel(0x55, [0, 0, 1, 1]);
    const s0 = new FakeMsrCounter(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, TWO_32 - 1000, 0xdeadn);
    const s1 = new FakeMsrCounter(sys.devRoot, 2, MSR.PKG_ENERGY_STATUS, 5, 0xbeefn);
    // CPUs 1 and 3 share sockets 0 and 1: their counters must not be read.
    const other = new FakeMsrCounter(sys.devRoot, 1, MSR.PKG_ENERGY_STATUS, 1);
    const { ctx, clock } = fakeContext(sys);
    const src = raplCpuSource(ctx, native, opts);
    const probe = src.probe();
    expect(probe.ok && probe.devices.map((d) => [d.id, d.details?.cpu, d.details?.register])).toEqual([
      ['package-0', 0, '0x611'],
      ['package-1', 2, '0x611'],
    ]);
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ method: 'msr', reader: kind, energyUnitJ: 2 ** -14 });
    expect(src.boundaryNote).toMatch(/MSR/);
    // No kernel power limit on this path: 1000 W bound, half the wrap time.
    expect(src.maxReadIntervalMs).toBeCloseTo(((TWO_32 * 2 ** -14) / 1000 / 2) * 1000, 6);
    src.start();
    for (const [a, b] of [
      [1500, 3_000_000_000],
      [4_000_000_000, 4_000_000_000],
      [3_999_999_999, 123],
      [7, 4_100_000_000],
    ] as const) {
      s0.addRaw(a);
      s1.addRaw(b);
      other.addRaw(999_999);
      clock.ms += 260_000; // 4.1e9 counts of 61 µJ take 250 s at the 1000 W bound
      src.read();
    }
    const r = src.read();
    expect(r.devicesJ!['package-0']).toBe(Number(s0.addedRaw) * 2 ** -14);
    expect(r.devicesJ!['package-1']).toBe(Number(s1.addedRaw) * 2 ** -14);
    expect(r.energyJ).toBe((Number(s0.addedRaw) + Number(s1.addedRaw)) * 2 ** -14);
  });

  it('uses the fixed 15.3 µJ DRAM unit on Skylake-X and the unit MSR on Sapphire Rapids', () => {
    for (const [model, unitJ] of [
      [0x55, 15.3e-6],
      [0x8f, 2 ** -14],
    ] as const) {
      const sys = intel(model, [0]);
      writeMsr(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 1n);
      const dram = new FakeMsrCounter(sys.devRoot, 0, MSR.DRAM_ENERGY_STATUS, TWO_32 - 3);
      const { ctx, clock } = fakeContext(sys);
      const src = raplRamSource(ctx, native, opts);
      expect(src.probe()).toMatchObject({ ok: true, devices: [{ id: 'package-0/dram' }] });
      src.start();
      dram.addRaw(10);
      clock.ms += 125_000; // 2e9 counts of 61 µJ take 122 s at the 1000 W bound
      dram.addRaw(2_000_000_000);
      expect(src.read().energyJ).toBeCloseTo(2_000_000_010 * unitJ, 9);
    }
  });

  it('reads the Atom unit as 2^ESU µJ', () => {
    const sys = build({ cpu: { vendor: 'GenuineIntel', family: 6, model: 0x37 }, cpuSockets: [0] });
    writeMsr(sys.devRoot, 0, MSR.RAPL_POWER_UNIT, 0x505n);
    const pkg = new FakeMsrCounter(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 100);
    const src = raplCpuSource(fakeContext(sys).ctx, native, opts);
    expect(src.probe().ok).toBe(true);
    src.start();
    pkg.addRaw(1000);
    expect(src.read().energyJ).toBeCloseTo(1000 * 32e-6, 12);
  });

  it('reads AMD family 19h package energy at its own registers; AMD has no DRAM MSR', () => {
    const sys = build({ cpu: { vendor: 'AuthenticAMD', family: 25, model: 1 }, cpuSockets: [0, 1] });
    writeMsr(sys.devRoot, 0, MSR.AMD_RAPL_POWER_UNIT, AMD_UNITS);
    writeMsr(sys.devRoot, 1, MSR.AMD_RAPL_POWER_UNIT, AMD_UNITS);
    // Intel registers hold garbage here and must not be used.
    writeMsr(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 77n);
    const p0 = new FakeMsrCounter(sys.devRoot, 0, MSR.AMD_PKG_ENERGY_STATUS, TWO_32 - 1);
    const p1 = new FakeMsrCounter(sys.devRoot, 1, MSR.AMD_PKG_ENERGY_STATUS, 9);
    const { ctx, clock } = fakeContext(sys);
    const src = raplCpuSource(ctx, native, opts);
    const probe = src.probe();
    expect(probe.ok && probe.devices.map((d) => d.details?.register)).toEqual(['0xc001029b', '0xc001029b']);
    src.start();
    p0.addRaw(2);
    p1.addRaw(3_000_000_000);
    clock.ms += 63_000; // 4e9 counts of 15.3 µJ take 61 s at the 1000 W bound
    p0.addRaw(4_000_000_000);
    expect(src.read().energyJ).toBe((4_000_000_002 + 3_000_000_000) * 2 ** -16);
    const ram = raplRamSource(ctx, native, opts).probe();
    expect(ram).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!ram.ok && ram.reason).toMatch(/no DRAM domain|AMD/);
  });

  it('explains a missing msr device and a counter that reads zero', () => {
    const sys = build({ cpu: { vendor: 'GenuineIntel', family: 6, model: 0x55 }, cpuSockets: [0] });
    const p = raplCpuSource(fakeContext(sys).ctx, native, opts).probe();
    // Powercap is absent too: the powercap reason stays first (NOT_PRESENT both ways).
    expect(p).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!p.ok && p.reason).toContain(`no RAPL zones under ${sys.powercapRoot}`);
    expect(!p.ok && p.reason).toContain(`MSR path: ENOENT reading ${sys.devRoot}/cpu/0/msr`);
    expect(!p.ok && p.fix).toBeUndefined();
    writeMsr(sys.devRoot, 0, MSR.RAPL_POWER_UNIT, INTEL_UNITS);
    writeMsr(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 0xffffffff00000000n);
    const q = raplCpuSource(fakeContext(sys).ctx, native, opts).probe();
    expect(q).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!q.ok && q.reason).toContain('register 0x611 reads 0');
  });

  it('is not tried when msr is false', () => {
    const sys = intel(0x55, [0]);
    writeMsr(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 5n);
    expect(raplCpuSource(fakeContext(sys).ctx, native, { ...opts, msr: false }).probe().ok).toBe(false);
    expect(raplCpuSource(fakeContext(sys).ctx, native, opts).probe().ok).toBe(true);
  });

  it('is not tried when powercap is readable but lacks the domain (no DRAM zone on a client CPU)', () => {
    const sys = build({ rapl: [{ name: 'package-0' }], cpu: { vendor: 'GenuineIntel', family: 6, model: 0x9e }, cpuSockets: [0] });
    writeMsr(sys.devRoot, 0, MSR.RAPL_POWER_UNIT, INTEL_UNITS);
    writeMsr(sys.devRoot, 0, MSR.DRAM_ENERGY_STATUS, 5n);
    const p = raplRamSource(fakeContext(sys).ctx, native, opts).probe();
    expect(p).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(!p.ok && p.reason).not.toMatch(/MSR/);
  });

  it('keeps the last total when the msr device disappears mid-run', () => {
    const sys = intel(0x55, [0]);
    const pkg = new FakeMsrCounter(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 5);
    const { ctx, clock } = fakeContext(sys);
    const codes: string[] = [];
    const src = raplCpuSource(ctx, native, { ...opts, onWarning: (w) => codes.push(w.code) });
    src.probe();
    src.start();
    pkg.addRaw(1000);
    clock.ms += 1000;
    const before = src.read().energyJ;
    rmSync(join(sys.devRoot, 'cpu', '0', 'msr'));
    clock.ms += 1000;
    expect(src.read().energyJ).toBe(before);
    expect(codes).toEqual(['RAPL_READ']);
  });
});

describe('MSR readers', () => {
  it('read 8 bytes little-endian at the register offset, the same through the addon and fs', () => {
    const sys = build({});
    writeMsr(sys.devRoot, 3, MSR.AMD_PKG_ENERGY_STATUS, 0x0123456789abcdefn);
    for (const r of [nativeMsrReader(sys.devRoot, raplBinding()), fsMsrReader(sys.devRoot)]) {
      expect(r.read(3, MSR.AMD_PKG_ENERGY_STATUS)).toBe(0x0123456789abcdefn);
      expect(r.read(4, MSR.AMD_PKG_ENERGY_STATUS)).toBe('ENOENT');
      // Past the end of the sparse file: a short read.
      expect(r.read(3, MSR.AMD_PKG_ENERGY_STATUS + 8)).toBe('EIO');
    }
  });

  it('finds the vendor and one lead CPU per socket; offline CPUs are skipped', () => {
    const sys = build({ cpu: { vendor: 'AuthenticAMD', family: 25, model: 17 }, cpuSockets: [1, 0, 1, 0] });
    expect(readCpuIdentity(sys.procfsRoot)).toEqual({ vendor: 'amd', family: 25, model: 17 });
    rmSync(join(sys.sysfsRoot, 'devices/system/cpu/cpu1/topology'), { recursive: true });
    expect(socketLeadCpus(sys.sysfsRoot)).toEqual([
      { socket: 0, cpu: 3 },
      { socket: 1, cpu: 0 },
    ]);
    expect(readCpuIdentity('/nonexistent')).toBeUndefined();
  });

  it('are used when powercap energy_uj is unreadable (fs reader with EACCES injected)', () => {
    const sys = build({ rapl: [{ name: 'package-0' }], cpu: { vendor: 'GenuineIntel', family: 6, model: 0x55 }, cpuSockets: [0] });
    writeMsr(sys.devRoot, 0, MSR.RAPL_POWER_UNIT, INTEL_UNITS);
    writeMsr(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 42n);
    const fs: FsLike = {
      ...defaultFs,
      readFileSync(p, e) {
        if (p.endsWith('energy_uj')) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
        return defaultFs.readFileSync(p, e);
      },
    };
    const p = raplCpuSource(fakeContext(sys).ctx, native, { reader: 'fs', fs }).probe();
    expect(p.ok && p.devices[0]!.details).toMatchObject({ method: 'msr' });
  });
});
