/**
 * The public RAPL sources. Their code (src/sources/rapl-source.ts) loads on the first probe that
 * finds something to read: a powercap tree, or MSR device files. Most machines that run a tracker
 * (VMs, containers without the host /sys, ARM) have neither, and never compile it.
 */
import { readdirSync, statSync } from 'node:fs';
import { raplModule } from '../lazy/index.js';
import type { RaplBinding } from '../native/rapl-binding.js';
import type { ProbeResult, SourceContext } from '../types.js';
import { deferredSource } from './deferred.js';
import { noZones, type RaplSource, type RaplSourceOptions } from './rapl-api.js';

export type { CpuTimeProbe, RaplSource, RaplSourceOptions } from './rapl-api.js';

type NativeHolder = { readonly binding?: Partial<RaplBinding> | undefined };

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
