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
  /** The source's last and previous per-device totals (since start), where it gives them, and their clock times. */
  devicesJ?: Readonly<Record<string, number>>;
  devicesAtMs: number;
  prevDevicesJ?: Readonly<Record<string, number>>;
  prevDevicesAtMs: number;
}

const emptyLedger = (): ComponentLedger => ({ energyJ: 0, emissionsG: 0, lastDeltaJ: 0, devicesAtMs: 0, prevDevicesAtMs: 0 });
export const emptyLedgers = (): Record<Component, ComponentLedger> => ({ cpu: emptyLedger(), gpu: emptyLedger(), ram: emptyLedger() });

/** Keeps a read's per-device totals, and the previous ones for the devices' power. */
export function recordDevices(l: ComponentLedger, devicesJ: Readonly<Record<string, number>>, atMs: number): void {
  l.prevDevicesJ = l.devicesJ;
  l.prevDevicesAtMs = l.devicesAtMs;
  l.devicesJ = devicesJ;
  l.devicesAtMs = atMs;
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
  /** Length of the last sampling interval (0 before the first). */
  readonly lastIntervalS: number;
  readonly ledgers: Readonly<Record<Component, ComponentLedger>>;
  readonly sources: Partial<Record<Component, PowerSource | undefined>>;
  readonly devices: Partial<Record<Component, readonly DeviceInfo[]>>;
  readonly intensity?: IntensityValue;
  readonly callNames: readonly string[];
  readonly callStats: (name: string) => CallStats;
}

function deviceSnapshots(ledger: ComponentLedger, known: readonly DeviceInfo[]): DeviceSnapshot[] {
  const now = ledger.devicesJ;
  const prev = ledger.prevDevicesJ;
  // Device totals count from start, so a device's first reading is its energy since then.
  const intervalS = (ledger.devicesAtMs - ledger.prevDevicesAtMs) / 1000;
  const device = (id: string, name: string): DeviceSnapshot => {
    const energyJ = now?.[id];
    if (energyJ === undefined) return { id, name };
    const d = energyJ - (prev?.[id] ?? 0);
    return d >= 0 && intervalS > 0 ? { id, name, energyJ, powerW: d / intervalS } : { id, name, energyJ };
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
      powerW: s.lastIntervalS > 0 ? l.lastDeltaJ / s.lastIntervalS : 0,
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
