/**
 * Class 4, counters that step back are not wraps: fixture powercap trees and the fake NVML with
 * counters that step back, drop or read garbage; real wraps stay exact. And clocks that misbehave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { raplCpuSource } from '../../src/sources/rapl.js';
import { nvmlSource, type NvmlSource } from '../../src/sources/nvml.js';
import { EmissionsTracker } from '../../src/tracker.js';
import { FakePowerSource } from '../../src/testing/index.js';
import type { WattprintWarning } from '../../src/types.js';
import { EU } from '../fixtures/powercap/tree.js';
import { exactUj, fakeContext as raplContext, useFakeSystems } from '../native/rapl-helpers.js';
import { FakeGpus, fakeContext as nvmlContext, fakeLibrary, nativeAddon } from '../native/nvml-helpers.js';

const build = useFakeSystems();
const codes = (list: WattprintWarning[]) => list.map((w) => w.code);
const J_PER_COUNT = EU.core / 1e9;

describe('RAPL counter glitches (fixture powercap tree)', () => {
  function setup() {
    // 125 W package: bound 250 W.
    const sys = build({ rapl: [{ name: 'package-0', raw: 2 ** 32 - 1_000_000, maxPowerUw: [125_000_000] }] });
    const { ctx, clock } = raplContext(sys);
    const warnings: WattprintWarning[] = [];
    const src = raplCpuSource(ctx, {}, { reader: 'fs', msr: false, onWarning: (w) => warnings.push(w) });
    expect(src.probe().ok).toBe(true);
    src.start();
    return { zone: sys.zone('intel-rapl:0'), clock, src, warnings };
  }

  it('a counter that steps back 100 J adds nothing (not 262 kJ), warns once, and counts on from there', () => {
    const { zone, clock, src, warnings } = setup();
    zone.addRaw(2_000_000); // a real wrap: 122 J in 1 s
    clock.ms += 1000;
    const afterWrapJ = src.read().energyJ;
    expect(afterWrapJ * 1e6).toBeCloseTo(exactUj(2_000_000n, EU.core), 2);
    const back = BigInt(Math.round(100 / J_PER_COUNT));
    const stepBack = () => {
      zone.raw = (zone.raw - back + 2n ** 32n) % 2n ** 32n;
      zone.write();
    };
    stepBack();
    clock.ms += 1000;
    expect(src.read().energyJ).toBe(afterWrapJ);
    stepBack(); // a second glitch: dropped, not warned again
    clock.ms += 1000;
    expect(src.read().energyJ).toBe(afterWrapJ);
    zone.addRaw(1_000_000);
    clock.ms += 1000;
    expect(src.read().energyJ * 1e6).toBeCloseTo(exactUj(3_000_000n, EU.core), 2);
    expect(codes(warnings)).toEqual(['COUNTER_GLITCH']);
  });

  it('a garbage value beyond the counter range is dropped', () => {
    const { zone, clock, src, warnings } = setup();
    writeFileSync(zone.energyFile, '99999999999999999\n');
    clock.ms += 1000;
    expect(src.read().energyJ).toBe(0);
    zone.write();
    clock.ms += 1000;
    src.read();
    zone.addRaw(500_000);
    clock.ms += 1000;
    expect(src.read().energyJ * 1e6).toBeCloseTo(exactUj(500_000n, EU.core), 2);
    expect(codes(warnings)).toEqual(['COUNTER_GLITCH']);
  });
});

describe('NVML counter glitches (fake NVML)', () => {
  const open: NvmlSource[] = [];
  afterEach(() => {
    while (open.length) open.pop()!.close();
  });
  function setup(values: Record<string, string | number>) {
    const gpus = new FakeGpus({ count: 1, '0.arch': 9, '0.power_mw': 300_000, ...values });
    const { ctx, clock } = nvmlContext();
    const warnings: WattprintWarning[] = [];
    const s = nvmlSource(ctx, nativeAddon(), { libraryPath: fakeLibrary(), env: {}, onWarning: (w) => warnings.push(w), powerSampleIntervalMs: 3_600_000 });
    open.push(s);
    s.start();
    return { gpus, clock, s, warnings };
  }

  it('a counter that drops adds nothing (not the whole counter) and warns once', () => {
    const { gpus, clock, s, warnings } = setup({ '0.energy_mj': 50_000_000, '0.power_limit_mw': 700_000 });
    gpus.set({ '0.energy_mj': 50_300_000 });
    clock.ms += 1000;
    expect(s.read().energyJ).toBe(300);
    gpus.set({ '0.energy_mj': 20_000_000 });
    clock.ms += 1000;
    expect(s.read().energyJ).toBe(300);
    gpus.set({ '0.energy_mj': 20_400_000 });
    clock.ms += 1000;
    expect(s.read().energyJ).toBe(700);
    expect(codes(warnings)).toEqual(['COUNTER_GLITCH']);
  });

  it('a garbage jump beyond power limit × margin is dropped; a jump within it is kept', () => {
    const { gpus, clock, s, warnings } = setup({ '0.energy_mj': 1_000_000, '0.power_limit_mw': 700_000 });
    gpus.set({ '0.energy_mj': '30000000000000' }); // 3e10 J in 1 s
    clock.ms += 1000;
    expect(s.read().energyJ).toBe(0);
    gpus.set({ '0.energy_mj': '30000001300000' }); // 1300 J in 1 s: within 2 × 700 W
    clock.ms += 1000;
    expect(s.read().energyJ).toBe(1300);
    expect(codes(warnings)).toEqual(['COUNTER_GLITCH']);
  });
});

describe('clock validation', () => {
  for (const [name, bad] of [
    ['NaN', () => Number.NaN],
    ['Infinity', () => Number.POSITIVE_INFINITY],
    ['a value going backwards', () => performance.now() - 1e7],
  ] as const) {
    it(`a clock that returns ${name} is replaced with a warning; duration and totals keep moving`, async () => {
      let calls = 0;
      const clock = () => (++calls <= 2 ? performance.now() : bad());
      const t = new EmissionsTracker({
        countryIsoCode: 'FRA',
        clock,
        sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 100 })], gpu: [], ram: [] },
        saveToFile: false,
        handleSignals: false,
        measurePowerSecs: 0.05,
      });
      const warnings: WattprintWarning[] = [];
      t.on('warning', (w) => warnings.push(w));
      t.start();
      await new Promise((r) => setTimeout(r, 200));
      const mid = await t.flush();
      await new Promise((r) => setTimeout(r, 200));
      const end = await t.stop();
      expect(codes(warnings).filter((c) => c === 'CLOCK_INVALID')).toEqual(['CLOCK_INVALID']);
      expect(mid.durationS).toBeGreaterThan(0.15);
      expect(end.durationS).toBeGreaterThan(mid.durationS + 0.15);
      expect(end.cpuEnergyKWh).toBeGreaterThan(mid.cpuEnergyKWh);
      expect(end.cpuPowerW).toBeGreaterThan(80);
      expect(end.cpuPowerW).toBeLessThan(120);
    });
  }
});
