/** The RAPL sources' public types, shared by src/sources/rapl.ts and the code it loads on first need. */
import type { CpuTimes } from '../system/procstat.js';
import type { PowerSource, WattprintWarning } from '../types.js';
import type { FsLike } from './powercap.js';

/** Options of {@link raplCpuSource} and {@link raplRamSource}. */
export interface RaplSourceOptions {
  /** Receives non-fatal problems while running (a zone unreadable mid-run, reads too far apart). */
  onWarning?: (warning: WattprintWarning) => void;
  /** Force the reader. Default: the addon when it has the RAPL functions, else `node:fs`. */
  reader?: 'native' | 'fs';
  /** Read MSRs where powercap is absent or unreadable. Default true. */
  msr?: boolean;
  /**
   * Power bound (W) used to shorten the read interval for a domain whose kernel exposes no
   * `constraint_*_max_power_uw`, and on the MSR path. Default 1000.
   */
  fallbackMaxPowerW?: number;
  /** `node:fs` replacement for the fs readers (tests). */
  fs?: FsLike;
  /** CPU-time readers for process mode. Default: /proc via src/system. */
  cpuTime?: CpuTimeProbe;
}

/** Where process mode reads CPU time from. */
export interface CpuTimeProbe {
  /** All CPUs summed. */
  systemCpuTimes(): CpuTimes | undefined;
  /** CPU seconds of the tracked process tree. */
  treeCpuS(): number | undefined;
}

/** A RAPL-backed source: a {@link PowerSource} plus what the boundary should say about it. */
export interface RaplSource extends PowerSource {
  /** Set after a successful probe: psys instead of packages, MSR path, process attribution. */
  readonly boundaryNote?: string;
  /** Set after a successful probe; see {@link PowerSource.maxReadIntervalMs}. */
  readonly maxReadIntervalMs?: number;
}

/** The NOT_PRESENT reason for a powercap folder without RAPL zones. */
export function noZones(powercapRoot: string): string {
  return `no RAPL zones under ${powercapRoot} (intel_rapl_msr not loaded, not x86, or a container without the host /sys: set WATTPRINT_SYSFS_ROOT)`;
}
