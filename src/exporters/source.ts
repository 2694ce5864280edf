import type { CallRecord } from '../inference/types.js';
import type { ComponentSnapshot, TrackerSnapshot } from '../types.js';
import { COMPONENTS } from '../types.js';

/**
 * What the exporters need from a tracker: its public snapshot, read at scrape or collect time, and
 * the `'call'` event, which feeds the per-call histograms. `EmissionsTracker` implements it; so can
 * a test double or a wrapper that merges several trackers.
 */
export interface MetricsSource {
  snapshot(): TrackerSnapshot;
  on(event: 'call', listener: (record: CallRecord) => void): unknown;
  off(event: 'call', listener: (record: CallRecord) => void): unknown;
}

/** One energy/power series: a device of a component, or the whole component where the source gives no per-device split. */
export interface DeviceSeries {
  readonly component: ComponentSnapshot['component'];
  /** Device id (`'0'`, `'package-0'`), or `'all'` for a component read as a whole over several devices. */
  readonly device: string;
  /** Device name(s), for display. */
  readonly name: string;
  readonly source: string;
  readonly kind: 'measured' | 'estimated';
  readonly scope: ComponentSnapshot['scope'];
  /** Before PUE, since `start()`. */
  readonly energyJ: number;
  /** Before PUE, over the last sampling interval. */
  readonly powerW: number;
}

/**
 * The energy series of a snapshot. A component whose devices all carry their own energy is split
 * into one series per device; otherwise it is one series, so that the series of a component always
 * sum to its energy and nothing is counted twice. Components not accounted (`kind: 'none'`) give none.
 */
export function deviceSeries(s: TrackerSnapshot): DeviceSeries[] {
  const out: DeviceSeries[] = [];
  for (const c of COMPONENTS) {
    const comp = s.components[c];
    if (comp.kind === 'none') continue;
    const base = { component: c, source: comp.source, kind: comp.kind, scope: comp.scope };
    const devices = comp.devices;
    if (devices.length > 0 && devices.every((d) => d.energyJ !== undefined)) {
      for (const d of devices) out.push({ ...base, device: d.id, name: d.name, energyJ: d.energyJ!, powerW: d.powerW ?? 0 });
    } else {
      const one = devices.length === 1 ? devices[0]! : undefined;
      out.push({
        ...base,
        device: one ? one.id : 'all',
        name: one ? one.name : devices.map((d) => d.name).join(', '),
        energyJ: comp.energyJ,
        powerW: comp.powerW,
      });
    }
  }
  return out;
}

/**
 * Upper bounds (J) of the per-call energy histograms: 0.01 J to 10 kJ, two buckets per decade
 * (×√10). Shared by the Prometheus and OpenTelemetry exporters and the timeline file, so that their
 * distributions compare bucket for bucket.
 */
export const CALL_ENERGY_BUCKETS_J: readonly number[] = Array.from({ length: 13 }, (_, k) => Number((0.01 * 10 ** (k / 2)).toPrecision(3)));
