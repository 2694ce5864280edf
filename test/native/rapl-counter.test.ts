import { describe, expect, it } from 'vitest';
import { energyUnitFromRange, msrScale, powercapScale, rawFromMicrojoules, wrapDelta } from '../../src/sources/rapl-counter.js';

describe('RAPL counter arithmetic', () => {
  it('recovers the kernel energy unit from max_energy_range_uj', () => {
    // 262143328850 is what a Core/Xeon package shows (ESU 14: eu = floor(1e9 / 2^14) = 61035 nJ).
    expect(energyUnitFromRange(262143328850)).toBe(61035);
    // Server DRAM (15.3 µJ): floor((2^32 - 1) * 15300 / 1000).
    expect(energyUnitFromRange(65712999613)).toBe(15300);
    // AMD Zen, ESU 16: floor(1e9 / 2^16) = 15258.
    expect(energyUnitFromRange(Math.floor(((2 ** 32 - 1) * 15258) / 1000))).toBe(15258);
    expect(energyUnitFromRange(999_999)).toBeUndefined();
    expect(energyUnitFromRange(0)).toBeUndefined();
  });

  it('decodes energy_uj back to the raw count for every raw value near the wrap', () => {
    const eu = 61035;
    for (const raw of [0, 1, 2, 17, 2 ** 31 + 5, 2 ** 32 - 2, 2 ** 32 - 1]) {
      const shown = Math.floor((raw * eu) / 1000);
      expect(rawFromMicrojoules(shown, eu)).toBe(raw);
    }
    const dram = 15300;
    for (let raw = 4294960000; raw < 4294967296; raw += 997) {
      expect(rawFromMicrojoules(Math.floor((raw * dram) / 1000), dram)).toBe(raw);
    }
  });

  it('wraps a kernel-scaled counter with period 2^32 raw counts, one unit more than max_energy_range_uj', () => {
    const s = powercapScale(262143328850);
    expect(s.modulus).toBe(2 ** 32);
    expect(s.jPerCount).toBeCloseTo(61035e-9, 15);
    // Last value before the wrap, then 3 counts after it: 4 counts in all.
    const before = s.decode(262143328850);
    const after = s.decode(Math.floor((3 * 61035) / 1000));
    expect(wrapDelta(before, after, s.modulus)).toBe(4);
    expect(wrapDelta(before, after, s.modulus) * s.jPerCount * 1e6).toBeCloseTo(4 * 61.035, 6);
    // Adding max_energy_range_uj instead (CodeCarbon, Zeus, Kepler) would give 183 µJ: one unit short.
  });

  it('takes a counter of another powercap driver at face value, 0..range inclusive', () => {
    const s = powercapScale(999_999);
    expect(s.modulus).toBe(1_000_000);
    expect(s.jPerCount).toBe(1e-6);
    expect(wrapDelta(s.decode(999_990), s.decode(5), s.modulus)).toBe(15);
  });

  it('masks the reserved high half of an energy status MSR', () => {
    const s = msrScale(2 ** -14);
    expect(s.decode(2 ** 40 + 7)).toBe(7);
    expect(wrapDelta(2 ** 32 - 1, 0, s.modulus)).toBe(1);
  });
});
