import type { HardwareInfo } from '../hardware.js';
import type { ResolvedOptions } from '../options.js';
import type { Selection } from '../sources/select.js';
import type { Boundary, Component, ComponentBoundary, EmissionsData, IntensityValue, Location, PowerSource, RemoteEstimate } from '../types.js';
import { countryName } from '../intensity/offline.js';
import { J_PER_KWH } from '../units.js';
import { VERSION } from '../version.js';

/** One number per component. */
export const perComponent = (v: number): Record<Component, number> => ({ cpu: v, gpu: v, ram: v });

/** Cumulative energy per component (after PUE), emissions and water. */
export interface Totals {
  energyJ: Record<Component, number>;
  emissionsKg: number;
  waterL: number;
}

export const zeroTotals = (): Totals => ({ energyJ: perComponent(0), emissionsKg: 0, waterL: 0 });
export const copyTotals = (t: Totals): Totals => ({ energyJ: { ...t.energyJ }, emissionsKg: t.emissionsKg, waterL: t.waterL });

export function diffTotals(a: Totals, b: Totals): Totals {
  return {
    energyJ: { cpu: a.energyJ.cpu - b.energyJ.cpu, gpu: a.energyJ.gpu - b.energyJ.gpu, ram: a.energyJ.ram - b.energyJ.ram },
    emissionsKg: a.emissionsKg - b.emissionsKg,
    waterL: a.waterL - b.waterL,
  };
}

/** A running mean. */
export interface Mean {
  sum: number;
  n: number;
}
const mean = (m: Mean) => (m.n ? m.sum / m.n : 0);

/** Utilisation means for CodeCarbon's columns. */
export type Util = Record<'cpu' | 'gpu' | 'ram' | 'ramUsed' | 'ramInUse', Mean>;
export const zeroUtil = (): Util => ({
  cpu: { sum: 0, n: 0 },
  gpu: { sum: 0, n: 0 },
  ram: { sum: 0, n: 0 },
  ramUsed: { sum: 0, n: 0 },
  ramInUse: { sum: 0, n: 0 },
});

export function diffUtil(now: Util, before: Util): Util {
  const d = (k: keyof Util): Mean => ({ sum: now[k].sum - before[k].sum, n: now[k].n - before[k].n });
  return { cpu: d('cpu'), gpu: d('gpu'), ram: d('ram'), ramUsed: d('ramUsed'), ramInUse: d('ramInUse') };
}

/** `YYYY-MM-DDTHH:MM:SS` in local time, as CodeCarbon writes it. */
function localTimestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function noneNote(selection: Selection | undefined, c: Component): string {
  const tried = selection?.candidates.filter((x) => x.component === c) ?? [];
  const reasons = tried.map((t) => (t.probe.ok ? `${t.id}: ok` : `${t.id}: ${t.probe.reason}`));
  return reasons.length ? `not accounted (${reasons.join('; ')})` : 'not accounted';
}

/** What the results include: per component, the source, measured or estimated, devices, scope, PUE. */
export function buildBoundary(o: Pick<ResolvedOptions, 'pue' | 'trackingMode'>, selection: Selection | undefined): Boundary {
  const pue = o.pue;
  const entry = (c: Component): ComponentBoundary => {
    const s = selection?.sources[c];
    const probe = selection?.probes[c];
    if (!s) return { component: c, source: 'none', kind: 'none', devices: [], scope: o.trackingMode, pueApplied: false, note: noneNote(selection, c) };
    const note = (s as PowerSource & { boundaryNote?: string }).boundaryNote ?? (probe?.ok ? probe.note : undefined);
    return {
      component: c,
      source: s.id,
      kind: s.kind,
      devices: probe?.ok ? probe.devices.map((d) => d.name) : [],
      scope: s.scope ?? o.trackingMode,
      pueApplied: pue !== 1,
      ...(note ? { note } : {}),
    };
  };
  return { cpu: entry('cpu'), gpu: entry('gpu'), ram: entry('ram'), pue, emissionsScope: 'operational' };
}

/** CodeCarbon's longitude/latitude columns: filled when the location has them (IP geolocation). */
const coordinatesOf = (l: Location) => (l.latitude !== undefined && l.longitude !== undefined ? { latitude: l.latitude, longitude: l.longitude } : {});

/** Everything an {@link EmissionsData} row is made of. */
export interface DataInput {
  readonly options: ResolvedOptions;
  readonly runId: string;
  readonly hardware: HardwareInfo;
  readonly intensity: IntensityValue;
  /** The intensity provider's id (when the value does not name one) and the location it answered for. */
  readonly intensityProviderId: string;
  readonly location: Location;
  readonly boundary: Boundary;
  readonly durationMs: number;
  readonly totals: Totals;
  readonly util: Util;
  readonly taskName?: string;
  /** Estimated remote LLM requests of the run (`wattprint/llm`). */
  readonly remoteEstimate?: RemoteEstimate;
}

/** A result row: the totals flattened to CodeCarbon's columns, with the run's context. */
export function buildData(x: DataInput): EmissionsData {
  const { options: o, hardware: hw, intensity, totals: t, util } = x;
  const durationS = Math.max(0, x.durationMs / 1000);
  const kWh = (j: number) => j / J_PER_KWH;
  const powerW = (j: number) => (durationS > 0 ? j / durationS : 0);
  const totalJ = t.energyJ.cpu + t.energyJ.gpu + t.energyJ.ram;
  return {
    timestamp: localTimestamp(),
    projectName: o.projectName,
    runId: x.runId,
    experimentId: o.experimentId,
    experimentName: o.experimentName,
    ...(x.taskName !== undefined ? { taskName: x.taskName } : {}),
    durationS,
    emissionsKg: t.emissionsKg,
    emissionsRateKgPerS: durationS > 0 ? t.emissionsKg / durationS : 0,
    cpuPowerW: powerW(t.energyJ.cpu),
    gpuPowerW: powerW(t.energyJ.gpu),
    ramPowerW: powerW(t.energyJ.ram),
    cpuEnergyKWh: kWh(t.energyJ.cpu),
    gpuEnergyKWh: kWh(t.energyJ.gpu),
    ramEnergyKWh: kWh(t.energyJ.ram),
    energyConsumedKWh: kWh(totalJ),
    waterConsumedL: t.waterL,
    // A provider without location fields (a forced intensity): the names CodeCarbon writes for the options.
    countryName: intensity.countryName ?? (o.countryIsoCode ? countryName(o.countryIsoCode) : undefined) ?? '',
    countryIsoCode: intensity.countryIsoCode ?? o.countryIsoCode ?? '',
    region: intensity.region ?? o.region?.toLowerCase() ?? '',
    cloudProvider: intensity.cloudProvider ?? o.cloudProvider ?? '',
    cloudRegion: intensity.cloudRegion ?? o.cloudRegion ?? '',
    os: hw.os,
    nodeVersion: process.versions.node,
    trackerVersion: `wattprint ${VERSION}`,
    cpuCount: hw.cpuCount,
    cpuModel: hw.cpuModel,
    gpuCount: hw.gpuCount,
    gpuModel: hw.gpuModel,
    ...coordinatesOf(x.location),
    ramTotalSizeGB: hw.ramTotalGiB,
    trackingMode: o.trackingMode,
    cpuUtilizationPercent: mean(util.cpu),
    gpuUtilizationPercent: mean(util.gpu),
    ramUtilizationPercent: mean(util.ram),
    ramUsedGB: mean(util.ramUsed),
    ramInUseGB: mean(util.ramInUse),
    onCloud: intensity.cloudProvider || o.cloudProvider ? 'Y' : 'N',
    pue: o.pue,
    wue: o.wue,
    intensityGPerKWh: intensity.gPerKWh,
    intensitySource: intensity.source,
    intensityProvider: intensity.provider ?? x.intensityProviderId,
    intensityZone: intensity.zone ?? '',
    ...(intensity.freshness ? { intensityFreshness: intensity.freshness } : {}),
    ...(intensity.year !== undefined ? { intensityYear: intensity.year } : {}),
    boundary: x.boundary,
    ...(x.remoteEstimate !== undefined ? { remoteEstimate: x.remoteEstimate } : {}),
  };
}
