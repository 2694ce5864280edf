/**
 * The public RAPL sources. Their code (src/sources/rapl-source.ts) loads on the first probe that
 * finds something to read: a powercap tree, or MSR device files. Most machines that run a tracker
 * (VMs, containers without the host /sys, ARM) have neither, and never compile it.
 */
import { readdirSync, statSync } from 'node:fs';
import { raplModule } from '../lazy/index.js';
import type { RaplBinding } from '../native/rapl-binding.js';
import type { CpuTimes } from '../system/procstat.js';
import type { PowerSource, ProbeResult, SourceContext, WattprintWarning } from '../types.js';
import { deferredSource } from './deferred.js';
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

type NativeHolder = { readonly binding?: Partial<RaplBinding> | undefined };

/** The NOT_PRESENT reason for a powercap folder without RAPL zones. */
export function noZones(powercapRoot: string): string {
  return `no RAPL zones under ${powercapRoot} (intel_rapl_msr not loaded, not x86, or a container without the host /sys: set WATTPRINT_SYSFS_ROOT)`;
}

// Stat first, so that the usual answer (absent) costs no exception.
function exists(path: string, list: boolean): boolean {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && (!list || (st.isDirectory() && readdirSync(path).length > 0));
  } catch {
    return false;
  }
}

function rapl(component: 'cpu' | 'ram', ctx: SourceContext, native: NativeHolder, opts: RaplSourceOptions): RaplSource {
  const powercapRoot = `${ctx.sysfsRoot}/class/powercap`;
  const msrFile = `${ctx.devRoot}/cpu/0/msr`;
  // Answered here only on the real file system with the default reader: with no powercap zone to
  // list and no MSR device (the msr module makes one per CPU), the full probe finds nothing either.
  const absent = (): Extract<ProbeResult, { ok: false }> | undefined => {
    if (opts.fs !== undefined || opts.reader === 'native' || exists(powercapRoot, true)) return undefined;
    if (opts.msr === false) return { ok: false, code: 'NOT_PRESENT', reason: noZones(powercapRoot) };
    if (exists(msrFile, false)) return undefined;
    return { ok: false, code: 'NOT_PRESENT', reason: `${noZones(powercapRoot)}; MSR path: ENOENT reading ${msrFile} (no msr device: \`sudo modprobe msr\` loads the module)` };
  };
  return deferredSource<RaplSource>(
    { id: component === 'cpu' ? 'rapl' : 'rapl-dram', component, kind: 'measured', scope: ctx.trackingMode },
    absent,
    () => raplModule().makeRaplSource(component, ctx, native, opts),
    { boundaryNote: undefined },
  );
}

/**
 * CPU energy from RAPL: the sum of the package domains (each socket once), or psys where the
 * kernel exposes no package domain. Reads powercap through the addon (`node:fs` without it),
 * else the energy status MSRs. In process mode, energy is attributed by the tracked tree's share
 * of busy CPU time. Id `'rapl'`, measured.
 */
export function raplCpuSource(ctx: SourceContext, native: NativeHolder, opts: RaplSourceOptions = {}): RaplSource {
  return rapl('cpu', ctx, native, opts);
}

/** RAM energy from the RAPL DRAM domains (servers; most client CPUs and AMD have none). Id `'rapl-dram'`, measured. */
export function raplRamSource(ctx: SourceContext, native: NativeHolder, opts: RaplSourceOptions = {}): RaplSource {
  return rapl('ram', ctx, native, opts);
}
