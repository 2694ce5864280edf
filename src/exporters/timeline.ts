/**
 * The timeline file: one JSON line per sample (the tracker's 'measurement' event), so that reports
 * can draw power over time instead of one flat mean per run, and one line of per-call energy
 * histograms whenever calls ended since the previous sample. Lines are written whole (one append
 * per line, under the same lock as the JSONL reporter), so the file may be emissions.jsonl itself.
 */
import { resolve } from 'node:path';
import { WattprintError } from '../errors.js';
import type { CallRecord } from '../inference/types.js';
import { appendLine } from '../reporters/json.js';
import { COMPONENTS, type Component, type Measurement, type SourceKind } from '../types.js';
import { checkSource } from './checks.js';
import { CALL_ENERGY_BUCKETS_J, type MetricsSource } from './source.js';

/** One sample of the timeline (`type: 'sample'`). Energies are those of the interval, after PUE. */
export interface TimelineSample {
  readonly type: 'sample';
  readonly project_name: string;
  readonly run_id: string;
  /** Wall-clock end of the interval, ISO 8601 UTC. */
  readonly timestamp: string;
  /** Seconds since the run started, at the start and the end of the interval. */
  readonly t0_s: number;
  readonly t_s: number;
  readonly cpu_energy_j: number;
  readonly gpu_energy_j: number;
  readonly ram_energy_j: number;
  readonly energy_j: number;
  readonly cpu_power_w: number;
  readonly gpu_power_w: number;
  readonly ram_power_w: number;
  readonly intensity_g_per_kwh: number;
  readonly emissions_kg: number;
  /** How each component's energy was obtained. */
  readonly kinds: Readonly<Record<Component, SourceKind | 'none'>>;
}

/** Per-call energy histograms, cumulative since the run started (`type: 'calls'`); the last line of a run wins. */
export interface TimelineCalls {
  readonly type: 'calls';
  readonly project_name: string;
  readonly run_id: string;
  readonly timestamp: string;
  /** Upper bounds (J) of the buckets; `counts` has one more entry, for calls above the last bound. */
  readonly bucket_bounds_j: readonly number[];
  readonly calls: ReadonlyArray<{ readonly name: string; readonly count: number; readonly energy_j: number; readonly counts: readonly number[] }>;
}

export type TimelineLine = TimelineSample | TimelineCalls;

/** A tracker the timeline can follow: its snapshot, and the 'measurement' and 'call' events. */
export interface TimelineSource extends MetricsSource {
  on(event: 'call', listener: (record: CallRecord) => void): unknown;
  on(event: 'measurement', listener: (m: Measurement) => void): unknown;
  off(event: 'call', listener: (record: CallRecord) => void): unknown;
  off(event: 'measurement', listener: (m: Measurement) => void): unknown;
}

export interface TimelineOptions {
  /** The file to append to (created if missing), e.g. `'timeline.jsonl'` or the tracker's emissions.jsonl. */
  readonly path: string;
  /** Called when a line cannot be written; the sample is dropped, tracking goes on. Default: `process.emitWarning` once. */
  readonly onError?: (error: WattprintError) => void;
}

/** A running timeline. */
export interface Timeline {
  readonly path: string;
  /** Stops following the tracker, writing the calls that ended after the last sample. Idempotent. */
  close(): void;
}

const round = (n: number) => Number(n.toPrecision(12));

/** Index of the bucket of `energyJ`: the first bound ≥ it, or the overflow bucket. */
export function bucketIndex(bounds: readonly number[], energyJ: number): number {
  let i = 0;
  while (i < bounds.length && energyJ > bounds[i]!) i++;
  return i;
}

/**
 * Appends a line per sample of `tracker` to `options.path` until `close()`. Start it before
 * `tracker.start()` to record every sample.
 *
 * @example
 * const timeline = recordTimeline(tracker, { path: 'out/timeline.jsonl' });
 * tracker.start(); ... await tracker.stop(); timeline.close();
 * // then: wattprint report out/emissions.csv out/timeline.jsonl --html report.html
 */
export function recordTimeline(tracker: TimelineSource, options: TimelineOptions): Timeline {
  checkSource('recordTimeline', tracker);
  if (typeof options?.path !== 'string' || options.path === '')
    throw new WattprintError('INVALID_OPTION', 'Invalid option `path` of recordTimeline: expected a file name such as "timeline.jsonl"', { option: 'path' });
  const path = resolve(options.path);
  let warned = false;
  const fail =
    options.onError ??
    ((e: WattprintError) => {
      if (warned) return;
      warned = true;
      process.emitWarning(e.message, { type: 'WattprintError', code: `WATTPRINT_${e.code}` });
    });
  // appendLine takes the file lock without blocking the event loop; its failures arrive as rejections.
  const write = (line: TimelineLine) =>
    appendLine(path, `${JSON.stringify(line)}\n`).catch((e: unknown) =>
      fail(e instanceof WattprintError ? e : new WattprintError('REPORTER_IO', `timeline: cannot append to ${path}: ${(e as Error).message}`, { cause: e })),
    );

  const bounds = CALL_ENERGY_BUCKETS_J;
  const calls = new Map<string, { count: number; energyJ: number; counts: number[] }>();
  let callsChanged = false;
  let originMs: number | undefined;

  const onCall = (r: CallRecord) => {
    if (!Number.isFinite(r.energyJ)) return;
    let c = calls.get(r.name);
    if (!c) calls.set(r.name, (c = { count: 0, energyJ: 0, counts: new Array<number>(bounds.length + 1).fill(0) }));
    c.count++;
    c.energyJ += r.energyJ;
    c.counts[bucketIndex(bounds, r.energyJ)]!++;
    callsChanged = true;
  };
  const writeCalls = (ids: { project_name: string; run_id: string; timestamp: string }) => {
    callsChanged = false;
    write({
      type: 'calls',
      ...ids,
      bucket_bounds_j: bounds,
      calls: [...calls].map(([name, c]) => ({ name, count: c.count, energy_j: round(c.energyJ), counts: [...c.counts] })),
    });
  };
  const idsNow = () => {
    const s = tracker.snapshot();
    return { project_name: s.projectName, run_id: s.runId, timestamp: new Date().toISOString() };
  };
  const writeSample = (m: Measurement) => {
    originMs ??= m.startMs;
    const ids = idsNow();
    const components = tracker.snapshot().components;
    const kinds = {} as Record<Component, SourceKind | 'none'>;
    for (const c of COMPONENTS) kinds[c] = components[c].kind;
    write({
      type: 'sample',
      ...ids,
      t0_s: round((m.startMs - originMs) / 1000),
      t_s: round((m.endMs - originMs) / 1000),
      cpu_energy_j: m.cpuEnergyJ,
      gpu_energy_j: m.gpuEnergyJ,
      ram_energy_j: m.ramEnergyJ,
      energy_j: m.energyJ,
      cpu_power_w: m.cpuPowerW,
      gpu_power_w: m.gpuPowerW,
      ram_power_w: m.ramPowerW,
      intensity_g_per_kwh: m.intensityGPerKWh,
      emissions_kg: m.emissionsKg,
      kinds,
    });
    if (callsChanged) writeCalls(ids);
  };
  // Written after the other 'measurement' listeners have run (the call tracker attributes the
  // interval's calls in its own), so the calls line includes them and the snapshot read here is
  // never one taken half-way through the tracker's own listeners.
  const pending: Measurement[] = [];
  const drain = () => {
    for (const m of pending.splice(0)) writeSample(m);
  };
  const onMeasurement = (m: Measurement) => {
    if (pending.push(m) === 1) queueMicrotask(drain);
  };
  tracker.on('call', onCall);
  tracker.on('measurement', onMeasurement);
  let open = true;
  return {
    path,
    close() {
      if (!open) return;
      open = false;
      tracker.off('call', onCall);
      tracker.off('measurement', onMeasurement);
      drain();
      // Calls in flight at stop are attributed after the last sample: keep them.
      if (callsChanged) writeCalls(idsNow());
    },
  };
}
