/**
 * Counter arithmetic shared by the powercap and MSR paths: how a value read becomes counter
 * units, where the counter wraps, and how long two reads may be apart.
 *
 * Linux (drivers/powercap/intel_rapl_common.c) keeps the hardware's 32-bit energy status
 * counter and shows `energy_uj = floor(raw * eu / 1000)`, where `eu` is the domain's energy unit
 * in nanojoules: `floor(1e9 / 2^ESU)` on Core/Xeon/AMD/TPMI, `1000 * 2^ESU` on some Atoms, 15300
 * for DRAM on Haswell-X to Ice Lake-X servers, 1e9 for SPR/EMR psys. `max_energy_range_uj` is the
 * same formula at raw = 2^32 - 1, so the counter's true period in µJ is one energy unit more than
 * `max_energy_range_uj`. From `max_energy_range_uj` we recover `eu`, then the raw count behind each
 * `energy_uj`, and sum raw deltas modulo 2^32 exactly.
 */

/** How to turn what a RAPL file or MSR shows into counter units, and where the counter wraps. */
export interface CounterScale {
  /** Counter units at which the counter returns to zero (2^32 for a raw RAPL counter). */
  readonly modulus: number;
  /** Joules per counter unit. */
  readonly jPerCount: number;
  /** Converts a value read (µJ for powercap, raw for MSRs) to counter units. */
  decode(value: number): number;
  /** Energy unit in nJ when it was recovered from `max_energy_range_uj`. */
  readonly energyUnitNj?: number;
}

const TWO_32 = 2 ** 32;

/** Energy units (nJ) the kernel can use for a RAPL domain; see the module comment. */
const KERNEL_ENERGY_UNITS_NJ: readonly number[] = [
  ...Array.from({ length: 32 }, (_, esu) => Math.floor(1e9 / 2 ** esu)),
  ...Array.from({ length: 21 }, (_, esu) => 1000 * 2 ** esu),
  15300,
];

/** The kernel energy unit (nJ) whose `max_energy_range_uj` is `rangeUj`, if any. */
export function energyUnitFromRange(rangeUj: number): number | undefined {
  if (!Number.isSafeInteger(rangeUj) || rangeUj <= 0) return undefined;
  const range = BigInt(rangeUj);
  for (const eu of KERNEL_ENERGY_UNITS_NJ) {
    if ((BigInt(TWO_32 - 1) * BigInt(eu)) / 1000n === range) return eu;
  }
  return undefined;
}

/**
 * The scale of a powercap zone from its `max_energy_range_uj`. When the range matches a kernel
 * RAPL energy unit, values are decoded back to raw counts (exact, period 2^32). Otherwise (another
 * powercap driver) the counter is taken at face value in µJ, running from 0 to the range inclusive.
 */
export function powercapScale(rangeUj: number): CounterScale {
  const eu = energyUnitFromRange(rangeUj);
  if (eu === undefined) {
    return { modulus: rangeUj + 1, jPerCount: 1e-6, decode: (uj) => uj };
  }
  if (eu <= 1000) {
    // Units of 1 µJ or less: several raw counts share one µJ value, so stay in µJ.
    return { modulus: Math.floor((TWO_32 * eu) / 1000), jPerCount: 1e-6, decode: (uj) => uj, energyUnitNj: eu };
  }
  return { modulus: TWO_32, jPerCount: eu * 1e-9, decode: (uj) => rawFromMicrojoules(uj, eu), energyUnitNj: eu };
}

/** Inverse of the kernel's `floor(raw * eu / 1000)` for eu > 1000 nJ: the unique raw count. */
export function rawFromMicrojoules(uj: number, euNj: number): number {
  const x = uj * 1000;
  let q = Math.ceil(x / euNj);
  // Guard the float division: q is the least integer with q * eu >= x.
  while (q > 0 && (q - 1) * euNj >= x) q--;
  while (q * euNj < x) q++;
  return q;
}

/** The scale of a raw 32-bit energy status MSR whose unit is `jPerCount`. */
export function msrScale(jPerCount: number): CounterScale {
  return { modulus: TWO_32, jPerCount, decode: (raw) => raw % TWO_32 };
}

/** Counter units from `prev` to `next`, assuming at most one wrap in between. */
export function wrapDelta(prev: number, next: number, modulus: number): number {
  return next >= prev ? next - prev : next - prev + modulus;
}

/** Seconds a counter takes to wrap at `powerW`. */
export function wrapTimeS(scale: CounterScale, powerW: number): number {
  return (scale.modulus * scale.jPerCount) / powerW;
}
