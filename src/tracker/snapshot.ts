import type { CallStats } from '../inference/index.js';
import {
  COMPONENTS,
  type Component,
  type ComponentSnapshot,
  type CallsSnapshot,
  type DeviceInfo,
  type DeviceSnapshot,
  type IntensityValue,
  type PowerSource,
  type TrackerSnapshot,
  type TrackingMode,
} from '../types.js';

/** Per component, what the sampler keeps for the snapshot (energies before PUE). */
export interface ComponentLedger {
  /** Sum of the accepted interval deltas since start, before PUE. */
  energyJ: number;
  /** Sum of each interval's energy × PUE × intensity then, in grams. */
  emissionsG: number;
  /** The last interval's delta before PUE (0 when the interval was rejected or unread). */
  lastDeltaJ: number;
  /**
   * Power of the last completed power window: a window closes once it spans at least the minimum
   * (see {@link recordInterval}), so an extra sample a moment after another (a `flush()` landing
   * on the timer's sample) cannot turn a few microseconds of counter noise into the power shown.
   */
  powerW: number;
  windowJ: number;
  windowMs: number;
  /** The source's last per-device totals (since start), where it gives them, and their clock time. */
  devicesJ?: Readonly<Record<string, number>>;
  devicesAtMs: number;
  /** Per-device totals and time at the start of the open device power window, and the last window's power. */
  windowDevicesJ?: Readonly<Record<string, number>>;
  windowDevicesAtMs: number;
  devicesPowerW?: Record<string, number | undefined>;
}

const emptyLedger = (): ComponentLedger => ({ energyJ: 0, emissionsG: 0, lastDeltaJ: 0, powerW: 0, windowJ: 0, windowMs: 0, devicesAtMs: 0, windowDevicesAtMs: 0 });
export const emptyLedgers = (): Record<Component, ComponentLedger> => ({ cpu: emptyLedger(), gpu: emptyLedger(), ram: emptyLedger() });

/** The shortest span the snapshot's power is averaged over: 1 s, or half the sampling interval when that is shorter. */
export const minPowerWindowMs = (measurePowerSecs: number): number => Math.min(1000, measurePowerSecs * 500);

/** Adds an interval's energy (0 when unread) to the component's power window, closing it once long enough. */
export function recordInterval(l: ComponentLedger, deltaJ: number, intervalMs: number, minWindowMs: number): void {
  l.windowJ += deltaJ;
  l.windowMs += intervalMs;
  if (l.windowMs >= minWindowMs && l.windowMs > 0) {
    l.powerW = l.windowJ / (l.windowMs / 1000);
    l.windowJ = 0;
    l.windowMs = 0;
  }
}

/** Keeps a read's per-device totals, and the devices' power over the last window long enough. */
export function recordDevices(l: ComponentLedger, devicesJ: Readonly<Record<string, number>>, atMs: number, minWindowMs = 0): void {
  l.devicesJ = devicesJ;
  l.devicesAtMs = atMs;
  const spanMs = atMs - l.windowDevicesAtMs;
  if (spanMs < minWindowMs || spanMs <= 0) return;
  // Refilled in place at every window: the snapshot copies the numbers out.
  const powerW = (l.devicesPowerW ??= {});
  for (const id in devicesJ) {
    const d = devicesJ[id]! - (l.windowDevicesJ?.[id] ?? 0);
    powerW[id] = d >= 0 ? d / (spanMs / 1000) : undefined;
  }
  l.windowDevicesJ = devicesJ;
  l.windowDevicesAtMs = atMs;
}

export interface SnapshotInput {
  readonly projectName: string;
  readonly runId: string;
  readonly running: boolean;
  readonly trackingMode: TrackingMode;
  readonly pue: number;
  /** Wall-clock ms of start (0 before start) and time covered by the samples. */
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly ledgers: Readonly<Record<Component, ComponentLedger>>;
  readonly sources: Partial<Record<Component, PowerSource | undefined>>;
  readonly devices: Partial<Record<Component, readonly DeviceInfo[]>>;
  readonly intensity?: IntensityValue;
  readonly callNames: readonly string[];
  readonly callStats: (name: string) => CallStats;
}

function deviceSnapshots(ledger: ComponentLedger, known: readonly DeviceInfo[]): DeviceSnapshot[] {
  const now = ledger.devicesJ;
  const device = (id: string, name: string): DeviceSnapshot => {
    const energyJ = now?.[id];
    if (energyJ === undefined) return { id, name };
    const powerW = ledger.devicesPowerW?.[id];
    return powerW !== undefined ? { id, name, energyJ, powerW } : { id, name, energyJ };
  };
  const out = known.map((d) => device(d.id, d.name));
  if (now) for (const id of Object.keys(now)) if (!known.some((d) => d.id === id)) out.push(device(id, id));
  return out;
}

/** Builds the public {@link TrackerSnapshot} from the sampler's ledgers. */
export function buildSnapshot(s: SnapshotInput): TrackerSnapshot {
  const component = (c: Component): ComponentSnapshot => {
    const l = s.ledgers[c];
    const src = s.sources[c];
    return {
      component: c,
      source: src ? src.id : 'none',
      kind: src ? src.kind : 'none',
      scope: src?.scope ?? s.trackingMode,
      energyJ: l.energyJ,
      powerW: l.powerW,
      emissionsG: l.emissionsG,
      devices: src ? deviceSnapshots(l, s.devices[c] ?? []) : [],
    };
  };
  const components = { cpu: component('cpu'), gpu: component('gpu'), ram: component('ram') };
  let energyJ = 0;
  let emissionsG = 0;
  for (const c of COMPONENTS) {
    energyJ += components[c].energyJ;
    emissionsG += components[c].emissionsG;
  }
  const calls = s.callNames.map((name): CallsSnapshot => {
    const st = s.callStats(name);
    return {
      name,
      ok: st.count - st.errors - st.abandoned - st.truncated,
      error: st.errors,
      aborted: st.abandoned + st.truncated,
      energyJ: st.energyJ,
      inputTokens: st.inputTokens ?? 0,
      outputTokens: st.outputTokens ?? 0,
    };
  });
  return {
    projectName: s.projectName,
    runId: s.runId,
    running: s.running,
    trackingMode: s.trackingMode,
    startedAtMs: s.startedAtMs,
    lastSampleAtMs: s.startedAtMs > 0 ? s.startedAtMs + s.durationMs : 0,
    durationS: s.durationMs / 1000,
    pue: s.pue,
    components,
    energyJ,
    emissionsG,
    ...(s.intensity ? { intensity: s.intensity } : {}),
    calls,
  };
}
