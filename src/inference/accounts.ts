import type { Component } from '../types.js';
import { attributeInterval, zeroTotals, type Floors, type IntervalLoad, type MutableTotals, type Rates } from './attribution.js';
import type { AttributionRule, IntervalSample } from './seam.js';
import type { Baseline } from './types.js';

/** An interval with no call in it. */
export const NO_LOAD: Readonly<IntervalLoad> = Object.freeze({ busyMs: 0, callMs: 0, workMs: 0, tokenCallMs: 0, tokens: 0 });

/**
 * The interval bookkeeping of a run's per-call attribution: the totals (calls', idle,
 * unattributed), where the idle floors came from, the process CPU time between intervals, and the
 * run's bounds. The tracker keeps it from `start()` with empty intervals until its call tracker
 * (src/inference/call-tracker.ts, whose code loads at the first wrap, label or call statistic)
 * takes it over, so the totals cover the whole run whenever that happens.
 */
export class IntervalAccounts {
  readonly totals: MutableTotals = zeroTotals();
  floorSource: Record<Component, 'baseline' | 'model' | 'none'> = { cpu: 'none', gpu: 'none', ram: 'none' };
  startedAtMs: number | undefined;
  stoppedAtMs: number | undefined;
  /** Date.now() − the tracker clock at start. */
  wallOffsetMs = 0;
  /** Tracker-clock end of the last interval accounted (the start, before any). */
  lastSampleMs = 0;
  private lastCpu: NodeJS.CpuUsage | undefined;

  constructor(readonly rule: AttributionRule) {}

  start(nowMs: number): void {
    this.lastSampleMs = nowMs;
    this.startedAtMs = nowMs;
    this.wallOffsetMs = Date.now() - nowMs;
    // The 'work' rule falls back to this process's CPU time where the sample gives no busy time.
    if (this.rule === 'work') this.lastCpu = process.cpuUsage();
  }

  /** Marks the end of the run at the last interval accounted (once). */
  stop(): void {
    if (this.startedAtMs !== undefined && this.stoppedAtMs === undefined) this.stoppedAtMs = this.lastSampleMs;
  }

  /** Adds one interval with `load` (the calls' part of it) to the totals; the rates per unit of load. */
  account(s: IntervalSample, load: Readonly<IntervalLoad>, baseline: Baseline | undefined): Rates {
    let cpuBusyMs = 0;
    if (this.rule === 'work') {
      // One read: the CPU time between two reads would belong to no interval.
      const now = process.cpuUsage();
      const last = this.lastCpu ?? { user: 0, system: 0 };
      this.lastCpu = now;
      cpuBusyMs = s.cpuBusyS !== undefined ? s.cpuBusyS * 1000 : (now.user - last.user + now.system - last.system) / 1000;
    }
    const floors: Floors = baseline
      ? { cpu: baseline.cpuPowerW, gpu: baseline.gpuPowerW, ram: baseline.ramPowerW }
      : { cpu: s.idleFloorW?.cpu, gpu: s.idleFloorW?.gpu, ram: s.idleFloorW?.ram };
    const from = (c: Component) => (baseline ? 'baseline' : floors[c] !== undefined && this.rule === 'work' ? 'model' : 'none');
    this.floorSource = { cpu: from('cpu'), gpu: from('gpu'), ram: from('ram') };
    this.lastSampleMs = s.endMs;
    return attributeInterval(this.rule, s, load, floors, cpuBusyMs, (s.trackerCpuS ?? 0) * 1000, baseline?.powerW, this.totals);
  }
}
