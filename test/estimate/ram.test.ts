import { afterEach, describe, expect, it } from 'vitest';
import { estimateDimmCount, ramPowerW } from '../../src/estimate/ram.js';
import { ramModelSource } from '../../src/sources/ram-dimm.js';
import type { SourceContext, TrackingMode } from '../../src/types.js';
import { makeProcfs } from '../system/procfs-fixture.js';

// Expected watts computed by hand from methods.md c.4 (CodeCarbon 3.x):
// DIMMs: ≤2 GiB → 1, ≤16 → 2, ≤32 → 4, ≤64 → 4, ≤128 → 8; above, the largest of 128/64/32/16/8/4 that is
// ≤ GiB/8 with ceil(GiB/size) DIMMs (max 32). Power with b W per DIMM: n ≤ 4 → b·n; n ≤ 8 → 4b + 0.9b(n−4);
// n ≤ 16 → 4b + 3.6b + 0.8b(n−8); else 4b + 3.6b + 6.4b + 0.7b(n−16); floor 10 W (x86, b = 5) or 3 W (ARM, b = 1.5).
const cases: [ramGiB: number, dimms: number, x86W: number, armW: number][] = [
  [1, 1, 10, 3], //          5 → 10;   1.5 → 3
  [2, 1, 10, 3],
  [8, 2, 10, 3], //          10;       3
  [16, 2, 10, 3],
  [32, 4, 20, 6], //         4·5 = 20; 4·1.5 = 6
  [64, 4, 20, 6],
  [128, 8, 38, 11.4], //     20 + 0.9·5·4 = 38; 6 + 0.9·1.5·4 = 11.4
  [200, 13, 58, 17.4], //    16 GiB ≤ 25: ceil(200/16) = 13; 20 + 18 + 0.8·5·5 = 58; 6 + 5.4 + 0.8·1.5·5 = 17.4
  [256, 8, 38, 11.4], //     32 ≤ 32: ceil(256/32) = 8
  [384, 12, 54, 16.2], //    32 ≤ 48: 12; 20 + 18 + 0.8·5·4 = 54; 6 + 5.4 + 4.8 = 16.2
  [512, 8, 38, 11.4], //     64 ≤ 64: 8
  [1024, 8, 38, 11.4], //    128 ≤ 128: 8
  [2048, 16, 70, 21], //     128: 16; 20 + 18 + 0.8·5·8 = 70; 6 + 5.4 + 9.6 = 21
  [6144, 32, 126, 37.8], //  128: 48 → cap 32; 70 + 0.7·5·16 = 126; 21 + 0.7·1.5·16 = 37.8
];

describe('RAM DIMM model', () => {
  it.each(cases)('%d GiB: %d DIMMs, %d W on x86, %d W on ARM', (gib, dimms, x86W, armW) => {
    expect(estimateDimmCount(gib)).toBe(dimms);
    expect(ramPowerW(gib, 'x86_64')).toBeCloseTo(x86W, 9);
    expect(ramPowerW(gib, 'aarch64')).toBeCloseTo(armW, 9);
    expect(ramPowerW(gib, 'arm64')).toBeCloseTo(armW, 9);
  });

  it('applies the 10 W floor on x86 even to a tiny process', () => {
    expect(ramPowerW(0.05, 'x86_64')).toBe(10);
    expect(ramPowerW(0.05, 'armv7l')).toBe(3);
  });
});

describe('ramModelSource', () => {
  const fixtures: ReturnType<typeof makeProcfs>[] = [];
  afterEach(() => {
    while (fixtures.length > 0) fixtures.pop()!.cleanup();
  });
  function setup(trackingMode: TrackingMode, arch = 'x86_64') {
    const f = makeProcfs();
    fixtures.push(f);
    f.write('meminfo', `MemTotal: ${64 * 1024 * 1024} kB\nMemAvailable: ${48 * 1024 * 1024} kB\n`);
    let nowMs = 0;
    const ctx: SourceContext = {
      sysfsRoot: '/sys', procfsRoot: f.root, devRoot: '/dev', trackingMode, pid: 100, nowMs: () => nowMs,
    };
    return { f, ctx, arch, advance: (ms: number) => (nowMs += ms) };
  }

  it('machine mode: the model applied to total memory (64 GiB → 4 DIMMs → 20 W)', () => {
    const { ctx, advance } = setup('machine');
    const source = ramModelSource(ctx, { arch: 'x86_64' });
    expect(source).toMatchObject({ id: 'ram-dimm', component: 'ram', kind: 'estimated', scope: 'machine' });
    const probe = source.probe();
    expect(probe.ok && probe.devices[0]!.details).toMatchObject({ totalGiB: 64, dimmCount: 4, powerW: 20 });
    source.start();
    advance(10_000);
    const r = source.read();
    expect(r.energyJ).toBeCloseTo(200, 9);
    advance(500);
    expect(source.read().energyJ).toBeCloseTo(210, 9);
  });

  it('process mode: the model applied to the tree RSS at each read', () => {
    const { f, ctx, advance } = setup('process');
    const gib = 1024 * 1024; // kB per GiB
    f.proc({ pid: 100, ppid: 1, utime: 0, stime: 0, vmRssKiB: 30 * gib });
    f.proc({ pid: 101, ppid: 100, utime: 0, stime: 0, vmRssKiB: 10 * gib });
    f.proc({ pid: 200, ppid: 1, utime: 0, stime: 0, vmRssKiB: 20 * gib });
    const source = ramModelSource(ctx, { arch: 'x86_64' });
    source.start();
    advance(2000);
    // 40 GiB → 4 DIMMs → 20 W for 2 s.
    const r = source.read();
    expect(r.energyJ).toBeCloseTo(40, 9);
    // The child exits: 30 GiB → 4 DIMMs → 20 W; then 1 GiB → floor 10 W.
    f.remove(101);
    advance(1000);
    expect(source.read().energyJ).toBeCloseTo(60, 9);
    f.proc({ pid: 100, ppid: 1, utime: 0, stime: 0, vmRssKiB: gib });
    advance(3000);
    expect(source.read().energyJ).toBeCloseTo(90, 9);
  });

  it('process mode on ARM uses 1.5 W per DIMM with a 3 W floor', () => {
    const { f, ctx, advance } = setup('process');
    f.proc({ pid: 100, ppid: 1, utime: 0, stime: 0, vmRssKiB: 1024 * 1024 });
    const source = ramModelSource(ctx, { arch: 'aarch64' });
    source.start();
    advance(1000);
    expect(source.read().energyJ).toBeCloseTo(3, 9);
  });
});
