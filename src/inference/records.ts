import type { Component } from '../types.js';
import type { Accrued, AttributionTotals } from './attribution.js';
import { ABANDONED, DYNAMIC_BIT, ERROR, OUTCOMES, STREAM_BIT, TOKEN_STREAM_BIT, TRUNCATED, type Site } from './call-state.js';
import type { RemoteTotals } from './remote.js';
import type { AttributionRule } from './seam.js';
import { StatsAccumulator, type FinishedCall } from './stats.js';
import type { Baseline, CallRecord, CallStats, Labels } from './types.js';

/** What the run report needs from the call side, as plain data. */
export interface CallReportData {
  readonly rule: AttributionRule;
  readonly totals: AttributionTotals;
  readonly overall: CallStats;
  readonly byName: readonly CallStats[];
  readonly baseline: Baseline | undefined;
  readonly baselineDurationMs: number | undefined;
  readonly amortize: { readonly trainingEmissionsKg: number; readonly expectedRequests: number } | undefined;
  readonly startedAtMs: number | undefined;
  readonly stoppedAtMs: number | undefined;
  /** Wall-clock ms minus tracker-clock ms. */
  readonly wallOffsetMs: number;
  readonly callSampleIntervalMs: number;
  /** Where the last interval's idle floor came from, per component. */
  readonly idleFloor: Readonly<Record<Component, 'baseline' | 'model' | 'none'>>;
}

const NO_LABELS: Labels = Object.freeze({});

/** A call's final numbers, handed to `finish` (one reused object: no allocation per call). */
export interface Ending {
  site: Site;
  labels: Labels | undefined;
  startMs: number;
  endMs: number;
  outcome: number;
  /** Outcome and the bits of call-state.ts. */
  meta: number;
  chunks: number;
  inputTokens: number;
  outputTokens: number;
  acc: Accrued;
  /** Estimates of the call's remote LLM requests (`wattprint/llm`), if any. */
  remote: RemoteTotals | undefined;
}

export function newEnding(): Ending {
  const acc: Accrued = { cpuJ: 0, gpuJ: 0, ramJ: 0, dynamicJ: 0, emissionsKg: 0, workMs: 0, dynamicOk: true };
  return { site: undefined as unknown as Site, labels: undefined, startMs: 0, endMs: 0, outcome: 0, meta: 0, chunks: -1, inputTokens: NaN, outputTokens: NaN, acc, remote: undefined };
}

/** Turns ended calls into statistics (always) and `CallRecord`s (when wanted). */
export class CallRecords {
  private readonly byName = new Map<string, StatsAccumulator>();
  private readonly finished: FinishedCall = {
    durationS: 0,
    energyJ: 0,
    cpuEnergyJ: 0,
    gpuEnergyJ: 0,
    ramEnergyJ: 0,
    dynamicEnergyJ: NaN,
    emissionsKg: 0,
    amortizedEmissionsKg: 0,
    cpuWorkS: 0,
    inputTokens: NaN,
    outputTokens: NaN,
    error: false,
    truncated: false,
    abandoned: false,
    remote: undefined,
  };

  /** Wall-clock ms minus tracker-clock ms, set at start. */
  wallOffsetMs = 0;

  constructor(
    private readonly rule: AttributionRule,
    private readonly amortizedKgPerCall: number,
  ) {}

  /** Names that have finished calls, in first-seen order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Statistics of all calls (with `extra`, the all-calls fields) or of the calls named `name`. */
  stats(name: string | undefined, extra?: Partial<CallStats>): CallStats {
    if (name === undefined) {
      // Per-name sketches share one bucket layout, so the all-calls sketch is their sum.
      const all = new StatsAccumulator();
      for (const s of this.byName.values()) all.merge(s);
      return all.toStats(undefined, extra);
    }
    return (this.byName.get(name) ?? new StatsAccumulator()).toStats(name);
  }

  /** Adds the call to the statistics; returns its record when `wantRecord`. */
  finish(e: Ending, wantRecord: boolean): CallRecord | undefined {
    const { site, acc: a, outcome } = e;
    const durationS = Math.max(e.endMs - e.startMs, 0) / 1000;
    const energyJ = a.cpuJ + a.gpuJ + a.ramJ;
    const dynamicJ = (e.meta & DYNAMIC_BIT) !== 0 && a.dynamicOk ? a.dynamicJ : NaN;
    const f = this.finished;
    f.durationS = durationS;
    f.energyJ = energyJ;
    f.cpuEnergyJ = a.cpuJ;
    f.gpuEnergyJ = a.gpuJ;
    f.ramEnergyJ = a.ramJ;
    f.dynamicEnergyJ = dynamicJ;
    f.emissionsKg = a.emissionsKg;
    f.amortizedEmissionsKg = this.amortizedKgPerCall;
    f.cpuWorkS = a.workMs / 1000;
    f.inputTokens = e.inputTokens;
    f.outputTokens = e.outputTokens;
    f.error = outcome === ERROR;
    f.truncated = outcome === TRUNCATED;
    f.abandoned = outcome === ABANDONED;
    f.remote = e.remote;
    (site.stats ??= this.statsFor(site.name)).add(f);
    if (!wantRecord) return undefined;
    const work = this.rule === 'work';
    const r: Record<string, unknown> = {
      name: site.name,
      startEpochMs: this.wallOffsetMs + e.startMs,
      startMs: e.startMs,
      endMs: e.endMs,
      durationS,
      energyJ,
      cpuEnergyJ: a.cpuJ,
      gpuEnergyJ: a.gpuJ,
      ramEnergyJ: a.ramJ,
    };
    if (dynamicJ === dynamicJ) r.dynamicEnergyJ = dynamicJ;
    r.emissionsKg = a.emissionsKg;
    r.amortizedEmissionsKg = this.amortizedKgPerCall;
    r.totalEmissionsKg = a.emissionsKg + this.amortizedKgPerCall;
    r.attribution = this.rule;
    if (work) r.cpuWorkS = a.workMs / 1000;
    r.gpuShare = work && (e.meta & TOKEN_STREAM_BIT) !== 0 ? 'tokens' : 'time';
    if (e.inputTokens === e.inputTokens) r.inputTokens = e.inputTokens;
    if (e.outputTokens === e.outputTokens) {
      r.outputTokens = e.outputTokens;
      if (e.outputTokens > 0) r.energyPerOutputTokenJ = energyJ / e.outputTokens;
    }
    r.labels = e.labels ?? NO_LABELS;
    r.error = outcome === ERROR;
    r.outcome = OUTCOMES[outcome];
    r.stream = (e.meta & STREAM_BIT) !== 0;
    if (e.chunks >= 0) r.chunks = e.chunks;
    if (e.remote) r.remoteEstimate = e.remote.toJSON();
    return r as unknown as CallRecord;
  }

  private statsFor(name: string): StatsAccumulator {
    let s = this.byName.get(name);
    if (!s) {
      s = new StatsAccumulator();
      this.byName.set(name, s);
    }
    return s;
  }
}
