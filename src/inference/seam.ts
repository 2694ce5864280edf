import type { WattprintError } from '../errors.js';
import type { Component, WattprintWarning } from '../types.js';
import type { CallRecord } from './types.js';

/**
 * One sampled interval, pushed by the tracker into the call tracker with
 * `calls.onInterval(sample)` right after it is measured (and before the 'measurement' event). This
 * is the whole seam from the tracker to per-call attribution: the tracker never reads call state,
 * and the call tracker never reads the tracker. A `Measurement` already carries every required
 * field, so the tracker passes `{ ...measurement, idleFloorW, trackerCpuS }` (or the measurement
 * itself when it knows neither).
 *
 * Energies are after PUE, emissions for this interval's grid intensity.
 */
export interface IntervalSample {
  /** Tracker-clock ms (the clock of {@link CallHost.nowMs}) at the interval's bounds. */
  readonly startMs: number;
  readonly endMs: number;
  readonly cpuEnergyJ: number;
  readonly gpuEnergyJ: number;
  readonly ramEnergyJ: number;
  /** cpu + gpu + ram. */
  readonly energyJ: number;
  readonly emissionsKg: number;
  /**
   * Power each component draws with no load, after PUE, where its source knows it (the CPU load
   * model's floor, a constant RAM estimate); absent or undefined for a component whose floor is
   * unknown (energy counters). A measured `baseline` takes precedence.
   */
  readonly idleFloorW?: Partial<Record<Component, number>>;
  /**
   * Main-thread seconds the tracker itself spent sampling since the previous interval (reading
   * sources, intensity, bookkeeping). Charged to tracker overhead, never to calls.
   */
  readonly trackerCpuS?: number;
  /**
   * CPU seconds of all the work the CPU energy of this interval covers (the machine's busy CPU
   * time in machine mode), when the tracker knows it. Without it the call tracker uses its own
   * process's CPU time, so other processes' work is invisible to the 'work' rule.
   */
  readonly cpuBusyS?: number;
}

/**
 * What the call tracker needs from its host (the `EmissionsTracker`), given at construction: a
 * clock, a way to ask for a sample (which must call `onInterval` synchronously when it samples),
 * fast sampling while calls are in flight, and where events go. Each callback may throw; the call
 * tracker turns a throw into an 'error' event and carries on.
 */
export interface CallHost {
  /** The tracker clock, monotonic ms. */
  nowMs(): number;
  /** Sample now (calling `onInterval` before returning); a no-op when not running. */
  requestSample(): void;
  /** While on, sample every `callSampleIntervalMs`. Idempotent. */
  setFastSampling(on: boolean): void;
  /** A finished call's record ('call' event). */
  emitCall(record: CallRecord): void;
  /** Whether anybody listens to 'call' (records are only built then). Default: true. */
  wantsCalls?(): boolean;
  warn(w: WattprintWarning): void;
  error(e: WattprintError): void;
}

/** How calls are attributed: see docs/inference.md, "Attribution rules". */
export type AttributionRule = 'work' | 'time';

/** The options the call tracker reads, given at construction. */
export interface CallTrackerConfig {
  /** Fast sampling interval while calls are in flight. Default 250. */
  readonly callSampleIntervalMs?: number;
  readonly baseline?: { readonly durationMs: number };
  readonly amortize?: { readonly trainingEmissionsKg: number; readonly expectedRequests: number };
  /** Default `'work'`. */
  readonly attribution?: AttributionRule;
  /**
   * Ended calls waiting for their interval's energy; reaching it forces a sample so memory stays
   * bounded in a loop that never yields. Default 16384.
   */
  readonly maxPendingCalls?: number;
  /**
   * The clock calls' CPU work is timed with, ms. Default: the monotonic clock (wall time while a
   * call's code runs); tests pass a CPU-time clock to be immune to a loaded machine.
   */
  readonly workClockMs?: () => number;
}
