import { constants as osConstants } from 'node:os';
import { WattprintError } from '../errors.js';
import type { RaplBinding } from '../native/rapl-binding.js';
import { acquireProcView, releaseProcView, type ProcView } from '../system/proc-view.js';
import type { CpuTimes } from '../system/procstat.js';
import type { DeviceInfo, EnergyReading, ProbeResult, SourceContext } from '../types.js';
import { defaultFs, errnoName, fsZoneReader, nativeZoneReader, type FsLike, type PowercapZone } from './powercap.js';
import { powercapScale, wrapDelta, wrapTimeS, type CounterScale } from './rapl-counter.js';
import { fitsPowerBound, glitchWarner } from './counter-guard.js';
import { noZones, type CpuTimeProbe, type RaplSource, type RaplSourceOptions } from './rapl-api.js';
import { fsMsrReader, nativeMsrReader, planMsr, readCpuIdentity, socketLeadCpus } from './rapl-msr.js';

/** Zeus's bound for how fast any RAPL counter can rise (RAPL_COUNTER_MAX_INCREASE: 1000 W). */
const DEFAULT_FALLBACK_MAX_POWER_W = 1000;
type DomainKind = 'package' | 'psys' | 'dram';

interface Domain {
  readonly key: string;
  readonly kind: DomainKind;
  /** File read each sample (energy_uj, or the msr device). */
  readonly file: string;
  readonly scale: CounterScale;
  /** Power assumed for the interval bound. */
  readonly boundW: number;
  readonly details: Record<string, string | number | boolean>;
}

interface Plan {
  readonly method: 'powercap' | 'msr';
  readonly reader: 'native' | 'fs';
  readonly domains: readonly Domain[];
  /** One value per domain, in the unit its scale decodes, or -errno. */
  read(): number[];
  readonly maxReadIntervalMs: number;
}

type Failure = { ok: false; reason: string; fix?: string; code: string };

/**
 * The fix for EACCES on energy_uj (root-only since Linux 5.10, CVE-2020-8694 "Platypus").
 * Making energy_uj world-readable re-opens that side channel to local users; the docs say so.
 */
export function permissionFix(powercapRoot: string): string {
  return (
    `For this boot: \`sudo chmod -R a+r ${powercapRoot}/*\`. ` +
    'Persistently: a udev rule in /etc/udev/rules.d/99-wattprint-rapl.rules: ' +
    '`ACTION=="add", SUBSYSTEM=="powercap", KERNEL=="intel-rapl*:*", RUN+="/bin/chmod a+r /sys%p/energy_uj"` ' +
    'then `sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=powercap --action=add`. ' +
    'Or run as root. See docs/measurement.md#cpu-and-dram-rapl.'
  );
}

/** Dedupe key of a zone: its domain name, or `package-N/dram` for a DRAM subzone. */
function zoneKey(zone: PowercapZone, byId: Map<string, PowercapZone>): { key: string; kind: DomainKind } | undefined {
  const name = zone.name ?? '';
  if (zone.parentId === undefined) {
    if (name.startsWith('package')) return { key: name, kind: 'package' };
    if (/^psys(-\d+)?$/.test(name)) return { key: name, kind: 'psys' };
    if (name === 'dram') return { key: `dram@${zone.id.replace(/^[^:]*:/, '')}`, kind: 'dram' };
    return undefined;
  }
  // The kernel registers dram as a child of its package; core, uncore are inside the package.
  if (name !== 'dram') return undefined;
  const parent = byId.get(zone.parentId);
  return { key: `${parent?.name ?? zone.parentId}/dram`, kind: 'dram' };
}

const readable = (zone: PowercapZone): boolean => zone.energyUj !== undefined && zone.maxEnergyRangeUj !== undefined && zone.maxEnergyRangeUj > 0;

/**
 * The zones that make up `component`, each domain once. Duplicates (the same name under
 * `intel-rapl` and `intel-rapl-mmio`) keep a readable copy, MMIO first as CodeCarbon does.
 * CPU: package domains, or psys where there is none. RAM: DRAM domains.
 */
export function selectZones(zones: readonly PowercapZone[], component: 'cpu' | 'ram'): { key: string; kind: DomainKind; zone: PowercapZone }[] {
  const byId = new Map(zones.map((z) => [z.id, z]));
  const best = new Map<string, { key: string; kind: DomainKind; zone: PowercapZone }>();
  for (const zone of zones) {
    const k = zoneKey(zone, byId);
    if (!k) continue;
    const prev = best.get(k.key);
    const rank = (z: PowercapZone) => (readable(z) ? 2 : 0) + (z.mmio ? 1 : 0);
    if (!prev || rank(zone) > rank(prev.zone)) best.set(k.key, { ...k, zone });
  }
  const all = [...best.values()];
  if (component === 'ram') return all.filter((d) => d.kind === 'dram');
  const packages = all.filter((d) => d.kind === 'package');
  return packages.length > 0 ? packages : all.filter((d) => d.kind === 'psys');
}

/** `intel-rapl*` entries listed in the class folder whose targets are gone (a masked /sys/devices). */
function danglingZoneLinks(powercapRoot: string, fs: FsLike): boolean {
  try {
    return fs.readdirSync(powercapRoot).some((n) => n.startsWith('intel-rapl'));
  } catch {
    return false;
  }
}

function hasRapl(binding: Partial<RaplBinding> | undefined): binding is RaplBinding {
  return typeof binding?.raplReadZones === 'function' && typeof binding.raplReadFiles === 'function' && typeof binding.msrRead === 'function';
}

function errnoOf(code: string): number {
  return -((osConstants.errno as Record<string, number>)[code] ?? osConstants.errno.EIO);
}

function intervalMs(domains: readonly Domain[]): number {
  // Half the time the fastest counter needs to wrap at its bound: it then cannot wrap twice.
  return Math.min(...domains.map((d) => (wrapTimeS(d.scale, d.boundW) * 1000) / 2));
}

/** The addon as the sources get it: `binding` is read (and the addon loaded) only when needed. */
type NativeHolder = { readonly binding?: Partial<RaplBinding> | undefined };

/** Whether `path` exists (`list`: and is a directory that lists something). */
function present(fs: FsLike, path: string, list = false): boolean {
  try {
    return list ? fs.readdirSync(path).length > 0 : fs.statSync(path) !== undefined;
  } catch {
    return false;
  }
}

function resolvePlan(component: 'cpu' | 'ram', ctx: SourceContext, native: NativeHolder, opts: RaplSourceOptions): Plan | Failure {
  const fs = opts.fs ?? defaultFs;
  const fallbackW = opts.fallbackMaxPowerW ?? DEFAULT_FALLBACK_MAX_POWER_W;
  const powercapRoot = `${ctx.sysfsRoot}/class/powercap`;
  if (opts.reader === 'native' && !hasRapl(native.binding)) {
    return { ok: false, code: 'NATIVE_UNAVAILABLE', reason: 'reader "native" requested but the addon is not loaded or lacks raplReadZones' };
  }
  // The addon is asked for (and so loaded: ~4 ms) only where there is something for it to read: a
  // powercap tree, or MSR device files. Where there is neither, node:fs finds the same nothing.
  const nativeIfAny = (present: () => boolean): RaplBinding | undefined => {
    if (opts.reader === 'fs' || (opts.reader !== 'native' && !present())) return undefined;
    const binding = native.binding;
    return hasRapl(binding) ? binding : undefined;
  };
  const binding = nativeIfAny(() => present(fs, powercapRoot, true));
  const useNative = binding !== undefined;
  const readerKind = useNative ? 'native' : 'fs';
  const zoneReader = useNative ? nativeZoneReader(powercapRoot, binding) : fsZoneReader(powercapRoot, fs);
  const zones = zoneReader.list();
  const chosen = selectZones(zones, component);
  const what = component === 'cpu' ? 'package or psys' : 'DRAM';

  let failure: Failure;
  const bad = chosen.find((c) => !readable(c.zone));
  if (chosen.length > 0 && !bad) {
    const domains = chosen.map(({ key, kind, zone }): Domain => {
      const kernelW = zone.maxPowerUw !== undefined ? zone.maxPowerUw / 1e6 : undefined;
      const scale = powercapScale(zone.maxEnergyRangeUj!);
      return {
        key,
        kind,
        file: zone.energyFile,
        scale,
        // PL2/PL4 bursts can run at about twice the largest constraint's max power.
        boundW: kernelW !== undefined ? 2 * kernelW : fallbackW,
        details: {
          method: 'powercap',
          reader: readerKind,
          zone: zone.id,
          path: zone.path,
          maxEnergyRangeUj: zone.maxEnergyRangeUj!,
          ...(scale.energyUnitNj !== undefined ? { energyUnitNj: scale.energyUnitNj } : {}),
          ...(kernelW !== undefined ? { maxPowerW: kernelW } : {}),
          mmio: zone.mmio,
        },
      };
    });
    const files = domains.map((d) => d.file);
    return { method: 'powercap', reader: readerKind, domains, read: () => zoneReader.readEnergyUj(files), maxReadIntervalMs: intervalMs(domains) };
  } else if (bad) {
    const z = bad.zone;
    const file = `${z.path}/${z.errorFile ?? 'energy_uj'}`;
    failure =
      z.error === 'EACCES' || z.error === 'EPERM'
        ? {
            ok: false,
            code: 'PERMISSION_DENIED',
            reason: `${z.error} reading ${file} (energy_uj is root-only since Linux 5.10, CVE-2020-8694)`,
            fix: permissionFix(powercapRoot),
          }
        : z.error !== undefined
          ? { ok: false, code: 'READ_ERROR', reason: `${z.error} reading ${file}` }
          : { ok: false, code: 'READ_ERROR', reason: `${z.path}/max_energy_range_uj is 0: wraps cannot be handled` };
  } else if (zones.length === 0 && danglingZoneLinks(powercapRoot, fs)) {
    failure = {
      ok: false,
      code: 'MASKED',
      reason: `the RAPL entries of ${powercapRoot} point to nothing: the container masks /sys/devices/virtual/powercap (Docker's default)`,
      fix: 'Mount the host /sys read-only elsewhere and point wattprint at it: `docker run -v /sys:/host/sys:ro -e WATTPRINT_SYSFS_ROOT=/host/sys ...`.',
    };
  } else {
    failure = { ok: false, code: 'NOT_PRESENT', reason: zones.length === 0 ? noZones(powercapRoot) : `no ${what} domain among the ${zones.length} RAPL zones under ${powercapRoot}` };
  }

  // Readable powercap without this domain means the kernel found no such counter: MSRs have none either.
  if (opts.msr === false || (zones.length > 0 && !bad)) return failure;
  const msrBinding = zones.length > 0 ? binding : nativeIfAny(() => present(fs, `${ctx.devRoot}/cpu/0/msr`));
  const msrReader = msrBinding ? nativeMsrReader(ctx.devRoot, msrBinding) : fsMsrReader(ctx.devRoot, fs);
  const msr = planMsr(component, ctx.devRoot, readCpuIdentity(ctx.procfsRoot, fs), socketLeadCpus(ctx.sysfsRoot, fs), msrReader);
  if (msr.ok) {
    const domains = msr.domains.map(
      (d): Domain => ({
        key: d.key,
        kind: d.kind,
        file: `${ctx.devRoot}/cpu/${d.cpu}/msr`,
        scale: d.scale,
        boundW: fallbackW,
        details: { method: 'msr', reader: msrReader.kind, cpu: d.cpu, register: `0x${d.reg.toString(16)}`, energyUnitJ: d.scale.jPerCount },
      }),
    );
    const read = () =>
      msr.domains.map((d) => {
        const v = msrReader.read(d.cpu, d.reg);
        return typeof v === 'string' ? errnoOf(v) : Number(v & 0xffffffffn);
      });
    return { method: 'msr', reader: msrReader.kind, domains, read, maxReadIntervalMs: intervalMs(domains) };
  }
  // The powercap reason explains more, unless powercap is simply absent and the MSRs said why.
  return failure.code === 'NOT_PRESENT' && msr.code !== 'NOT_PRESENT'
    ? { ...msr, reason: `${msr.reason}; ${failure.reason}` }
    : { ...failure, reason: `${failure.reason}; MSR path: ${msr.reason}` };
}

interface DomainState {
  lastCounts?: number;
  lastMs: number;
  totalCounts: number;
  attributedJ: number;
  failed?: string;
}

/** The RAPL source behind {@link raplCpuSource} and {@link raplRamSource} (src/sources/rapl.ts), loaded on first need. */
export function makeRaplSource(
  component: 'cpu' | 'ram',
  ctx: SourceContext,
  native: NativeHolder,
  opts: RaplSourceOptions,
): RaplSource {
  const id = component === 'cpu' ? 'rapl' : 'rapl-dram';
  const processMode = ctx.trackingMode === 'process';
  // The sample's shared reads of /proc (one walk of the tree per sample for every source), held
  // from start() (which acquires it before the first read) to close().
  let view: ProcView | undefined;
  const cpuTime: CpuTimeProbe = opts.cpuTime ?? {
    systemCpuTimes: () => {
      const t: CpuTimes = { busyS: 0, totalS: 0 };
      return view?.cpuTimes(t) ? t : undefined;
    },
    treeCpuS: () => view?.treeCpuS(ctx.pid),
  };
  let plan: Plan | Failure | undefined;
  let states: DomainState[] = [];
  let running = false;
  let prevTree: number | undefined;
  let prevSys: CpuTimes | undefined;
  let share = 1;
  let attributionWarned = false;

  const warn = (code: string, message: string) => {
    try {
      opts.onWarning?.({ code, message: `${id}: ${message}`, component });
    } catch {
      // A throwing listener must not break sampling.
    }
  };
  const glitch = glitchWarner(warn);

  const resolve = (): Plan | Failure => {
    if (plan === undefined) {
      try {
        plan = resolvePlan(component, ctx, native, opts);
      } catch (e) {
        plan = { ok: false, code: 'PROBE_FAILED', reason: (e as Error)?.message ?? String(e) };
      }
    }
    return plan;
  };
  const ready = (): Plan | undefined => {
    const p = plan;
    return p !== undefined && !('ok' in p) ? p : undefined;
  };

  const updateShare = (): number | undefined => {
    const tree = cpuTime.treeCpuS();
    const sys = cpuTime.systemCpuTimes();
    let util: number | undefined;
    if (tree !== undefined && sys !== undefined && prevTree !== undefined && prevSys !== undefined) {
      const dTree = Math.max(0, tree - prevTree);
      const dBusy = sys.busyS - prevSys.busyS;
      const dTotal = sys.totalS - prevSys.totalS;
      share = dBusy > 0 ? Math.min(1, dTree / dBusy) : dTree > 0 ? 1 : 0;
      if (dTotal > 0) util = (100 * Math.max(0, dBusy)) / dTotal;
    } else if (!attributionWarned && (tree === undefined || sys === undefined)) {
      attributionWarned = true;
      warn('RAPL_ATTRIBUTION', `cannot read CPU times from ${ctx.procfsRoot} (pid ${ctx.pid}); keeping the last share (${share})`);
    }
    if (tree !== undefined) prevTree = tree;
    if (sys !== undefined) prevSys = sys;
    return util;
  };

  return {
    id,
    component,
    kind: 'measured',
    scope: ctx.trackingMode,
    get maxReadIntervalMs() {
      return ready()?.maxReadIntervalMs;
    },
    get boundaryNote() {
      const p = ready();
      if (!p) return undefined;
      const notes: string[] = [];
      if (p.domains.some((d) => d.kind === 'psys')) notes.push('psys domain (whole SoC/platform: no package domain exposed)');
      if (p.method === 'msr') notes.push('read from RAPL MSRs (powercap unavailable)');
      if (processMode) notes.push("attributed by the process tree's share of busy CPU time");
      return notes.length > 0 ? notes.join('; ') : undefined;
    },
    probe(): ProbeResult {
      const p = resolve();
      if ('ok' in p) return p;
      const devices: DeviceInfo[] = p.domains.map((d) => ({ id: d.key, name: d.key, details: d.details }));
      return { ok: true, devices, note: `${p.method} via ${p.reader}; read at least every ${Math.floor(p.maxReadIntervalMs / 1000)} s` };
    },
    start() {
      const p = resolve();
      if ('ok' in p) throw new WattprintError('RAPL_UNAVAILABLE', `${id}: ${p.reason}${p.fix ? `. Fix: ${p.fix}` : ''}`);
      const values = p.read();
      const t = ctx.nowMs();
      states = p.domains.map((d, i) => {
        const v = values[i]!;
        if (v >= 0) return { lastCounts: d.scale.decode(v), lastMs: t, totalCounts: 0, attributedJ: 0 };
        warn('RAPL_READ', `${errnoName(v)} reading ${d.file} at start; ${d.key} counts from its first good read`);
        return { lastMs: t, totalCounts: 0, attributedJ: 0, failed: errnoName(v) };
      });
      prevTree = prevSys = undefined;
      share = 1;
      if (processMode && !opts.cpuTime) view ??= acquireProcView(ctx.procfsRoot);
      if (processMode) updateShare();
      running = true;
    },
    read(): EnergyReading {
      const p = ready();
      if (!running || !p) throw new WattprintError('STATE', `${id}: read() before start()`);
      const values = p.read();
      const t = ctx.nowMs();
      const util = processMode ? updateShare() : undefined;
      const devicesJ: Record<string, number> = {};
      let energyJ = 0;
      p.domains.forEach((d, i) => {
        const st = states[i]!;
        const v = values[i]!;
        if (!(v >= 0)) {
          if (st.failed === undefined) warn('RAPL_READ', `${errnoName(v)} reading ${d.file}; keeping ${d.key}'s last total`);
          st.failed = errnoName(v);
        } else {
          const counts = d.scale.decode(v);
          const gapMs = t - st.lastMs;
          const wrapMs = wrapTimeS(d.scale, d.boundW) * 1000;
          if (st.lastCounts === undefined || (st.failed !== undefined && gapMs > p.maxReadIntervalMs)) {
            // First good value, or back after a gap too long to rule out a wrap: count from here.
            if (st.lastCounts !== undefined) warn('RAPL_GAP', `${d.key} readable again after ${(gapMs / 1000).toFixed(1)} s; energy of that gap is not counted`);
          } else {
            if (gapMs > wrapMs) {
              warn('RAPL_GAP', `${d.key} read ${(gapMs / 1000).toFixed(1)} s apart, longer than its counter takes to wrap at ${d.boundW} W; energy may be undercounted`);
            }
            const delta = wrapDelta(st.lastCounts, counts, d.scale.modulus);
            if (counts < d.scale.modulus && fitsPowerBound(delta * d.scale.jPerCount, gapMs, d.boundW)) {
              st.totalCounts += delta;
              st.attributedJ += delta * d.scale.jPerCount * share;
            } else glitch(d.key, delta * d.scale.jPerCount, gapMs, d.boundW);
          }
          st.lastCounts = counts;
          st.lastMs = t;
          st.failed = undefined;
        }
        const j = processMode ? st.attributedJ : st.totalCounts * d.scale.jPerCount;
        devicesJ[d.key] = j;
        energyJ += j;
      });
      return util === undefined ? { energyJ, devicesJ } : { energyJ, devicesJ, utilizationPercent: util };
    },
    close() {
      running = false;
      if (view) releaseProcView(view);
      view = undefined;
    },
  };
}
