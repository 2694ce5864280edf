import { machineArch } from '../system/cpuinfo.js';

/** Watts per DIMM (CodeCarbon `RAM_SLOT_POWER_X86`) and the floor of two DIMMs. */
const X86 = { perDimmW: 5, minW: 10 };
/** Low-power memory on ARM: 1.5 W per DIMM, at least 3 W. */
const ARM = { perDimmW: 1.5, minW: 3 };

/**
 * CodeCarbon 3.x's DIMM-count heuristic: ≤2 GiB → 1; ≤16 → 2; ≤32 → 4; ≤64 → 4; ≤128 → 8; above,
 * the largest of 128/64/32/16/8/4 GiB that is ≤ ramGiB / 8, with ceil(ramGiB / size) DIMMs capped
 * at 32 (8 if no size fits).
 */
export function estimateDimmCount(ramGiB: number): number {
  if (ramGiB <= 2) return 1;
  if (ramGiB <= 16) return 2;
  if (ramGiB <= 64) return 4;
  if (ramGiB <= 128) return 8;
  for (const size of [128, 64, 32, 16, 8, 4]) {
    if (size <= ramGiB / 8) return Math.min(Math.ceil(ramGiB / size), 32);
  }
  return 8;
}

/** Whether `arch` (`uname -m` or `process.arch`) is ARM, as CodeCarbon tests `platform.machine()`. */
function isArm(arch: string): boolean {
  return /arm|aarch/i.test(arch);
}

/**
 * RAM power of CodeCarbon 3.x's DIMM model, with b = 5 W per DIMM on x86 and 1.5 W on ARM:
 * n ≤ 4: b·n; n ≤ 8: 4b + 0.9b(n−4); n ≤ 16: 7.6b + 0.8b(n−8); else 14b + 0.7b(n−16);
 * never below 10 W (x86) or 3 W (ARM).
 */
export function ramPowerW(ramGiB: number, arch: string = machineArch()): number {
  const { perDimmW: b, minW } = isArm(arch) ? ARM : X86;
  const n = estimateDimmCount(ramGiB);
  let watts: number;
  if (n <= 4) watts = b * n;
  else if (n <= 8) watts = b * 4 + b * 0.9 * (n - 4);
  else if (n <= 16) watts = b * 4 + b * 0.9 * 4 + b * 0.8 * (n - 8);
  else watts = b * 4 + b * 0.9 * 4 + b * 0.8 * 8 + b * 0.7 * (n - 16);
  return Math.max(minW, watts);
}

/** Watts per DIMM the model assumes on `arch` (`uname -m` or `process.arch`). */
export function wattsPerDimm(arch: string): number {
  return (isArm(arch) ? ARM : X86).perDimmW;
}
