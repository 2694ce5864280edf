import type { Component } from '../types.js';
import type { AttributionRule, IntervalSample } from './seam.js';

/**
 * How one interval's energy is divided among the calls that overlapped it. Every share is linear
 * in a call's time in the interval (`t`, ms), its CPU work in it (`w`, ms of main-thread time in
 * its own async context) and the stream chunks (tokens) it produced in it (`k`):
 *
 *   cpu = cpuTime·t + cpuWork·w
 *   gpu = gpuTime·t                         (calls that do not stream tokens)
 *       = gpuStatic·t + gpuToken·k          (token streams, when any streamed in the interval)
 *   ram = ramTime·t
 *
 * Rule 'time' puts everything in the time rates (each call gets the interval's energy × its share of
 * the call-time in flight). Rule 'work' splits each component into its idle floor, shared by time in
 * flight (capacity held), and the dynamic rest: CPU by work, GPU by tokens or else time, RAM by time.
 */
export interface Rates {
  cpuTime: number;
  cpuWork: number;
  gpuTime: number;
  gpuStatic: number;
  /** GPU energy per token of a token-streaming call; used only when `tokensOn`. */
  gpuToken: number;
  tokensOn: boolean;
  ramTime: number;
  /** Dynamic energy per ms in flight (time rule: all of it; work rule: GPU and RAM by time). */
  dynTime: number;
  /** The GPU's dynamic part of `gpuTime` (replaced by `gpuToken·k` for token streams). */
  gpuDynTime: number;
  /** Whether the idle floor was known, so `dynamicEnergyJ` means something. */
  dynamicKnown: boolean;
  /** Emissions per joule in this interval. */
  kgPerJ: number;
}

export const NO_RATES: Rates = Object.freeze({
  cpuTime: 0,
  cpuWork: 0,
  gpuTime: 0,
  gpuStatic: 0,
  gpuToken: 0,
  tokensOn: false,
  ramTime: 0,
  dynTime: 0,
  gpuDynTime: 0,
  dynamicKnown: false,
  kgPerJ: 0,
});

/** Energy a call received from the intervals it overlapped. */
export interface Accrued {
  cpuJ: number;
  gpuJ: number;
  ramJ: number;
  dynamicJ: number;
  emissionsKg: number;
  /** Main-thread CPU work already attributed, ms. */
  workMs: number;
  /** Whether every interval so far knew its idle floor. */
  dynamicOk: boolean;
}

export const newAccrued = (): Accrued => ({ cpuJ: 0, gpuJ: 0, ramJ: 0, dynamicJ: 0, emissionsKg: 0, workMs: 0, dynamicOk: true });

export function resetAccrued(a: Accrued): Accrued {
  a.cpuJ = a.gpuJ = a.ramJ = a.dynamicJ = a.emissionsKg = a.workMs = 0;
  a.dynamicOk = true;
  return a;
}

/** Adds a call's share of one interval to `a`. */
export function addShare(a: Accrued, r: Rates, t: number, w: number, k: number, tokenStream: boolean): void {
  const tok = tokenStream && r.tokensOn;
  const cpu = r.cpuTime * t + r.cpuWork * w;
  const gpu = tok ? r.gpuStatic * t + r.gpuToken * k : r.gpuTime * t;
  const ram = r.ramTime * t;
  a.cpuJ += cpu;
  a.gpuJ += gpu;
  a.ramJ += ram;
  a.dynamicJ += r.dynTime * t + r.cpuWork * w + (tok ? r.gpuToken * k - r.gpuDynTime * t : 0);
  a.emissionsKg += (cpu + gpu + ram) * r.kgPerJ;
  a.workMs += w;
  if (!r.dynamicKnown) a.dynamicOk = false;
}

/** What the calls of one interval add up to, gathered before the rates are computed. */
export interface IntervalLoad {
  /** Time with ≥ 1 call in flight, ms (≤ the interval's length). */
  busyMs: number;
  /** Σ t over calls: the call-time in flight, ms. */
  callMs: number;
  /** Σ w over calls, ms. */
  workMs: number;
  /** Σ t and Σ k over the calls streaming tokens. */
  tokenCallMs: number;
  tokens: number;
}

/** Energy bookkeeping of every interval seen since start; the conservation identity holds on it. */
export interface AttributionTotals {
  /** The rule in force. */
  readonly rule: AttributionRule;
  /** Intervals attributed and the sum of their lengths. */
  readonly intervals: number;
  readonly observedS: number;
  /** Sum of their energies (all components, after PUE) and emissions. */
  readonly energyJ: number;
  readonly emissionsKg: number;
  /**
   * Where it went: `callsEnergyJ + unattributedEnergyJ + idleEnergyJ = energyJ` (and the same for
   * emissions). Idle: the idle floor while no call was in flight (rule 'time': all energy then).
   * Unattributed (rule 'work'): dynamic energy no call's work explains: other threads and
   * processes, work outside any call's async context, the tracker itself, GPU or RAM activity with
   * no call in flight.
   */
  readonly callsEnergyJ: number;
  readonly callsEmissionsKg: number;
  readonly idleEnergyJ: number;
  readonly idleCpuEnergyJ: number;
  readonly idleGpuEnergyJ: number;
  readonly idleRamEnergyJ: number;
  readonly idleEmissionsKg: number;
  readonly unattributedEnergyJ: number;
  readonly unattributedCpuEnergyJ: number;
  readonly unattributedGpuEnergyJ: number;
  readonly unattributedRamEnergyJ: number;
  readonly unattributedEmissionsKg: number;
  /** CPU seconds of work seen (the 'work' rule's denominator), the calls' part, and the tracker's. */
  readonly cpuWorkS: number;
  readonly callsCpuWorkS: number;
  readonly trackerCpuS: number;
  /** The tracker's own share of the dynamic CPU energy (part of `unattributedEnergyJ`). */
  readonly trackerEnergyJ: number;
  /** Time with at least one call in flight. */
  readonly busyS: number;
  /** Call-seconds: the integral of the in-flight count. */
  readonly callS: number;
  readonly maxInFlight: number;
  readonly inFlight: number;
}

export type MutableTotals = { -readonly [K in Exclude<keyof AttributionTotals, 'maxInFlight' | 'inFlight' | 'rule'>]: number };

export function zeroTotals(): MutableTotals {
  return {
    intervals: 0,
    observedS: 0,
    energyJ: 0,
    emissionsKg: 0,
    callsEnergyJ: 0,
    callsEmissionsKg: 0,
    idleEnergyJ: 0,
    idleCpuEnergyJ: 0,
    idleGpuEnergyJ: 0,
    idleRamEnergyJ: 0,
    idleEmissionsKg: 0,
    unattributedEnergyJ: 0,
    unattributedCpuEnergyJ: 0,
    unattributedGpuEnergyJ: 0,
    unattributedRamEnergyJ: 0,
    unattributedEmissionsKg: 0,
    cpuWorkS: 0,
    callsCpuWorkS: 0,
    trackerCpuS: 0,
    trackerEnergyJ: 0,
    busyS: 0,
    callS: 0,
  };
}

/** Idle power per component in W (undefined: unknown). */
export type Floors = Record<Component, number | undefined>;

/**
 * Computes the rates of one interval and adds it to the totals. `cpuBusyMs` is all the CPU work the
 * interval's CPU energy covers (its own process's, or the machine's when the tracker knows it);
 * `trackerMs` the tracker's part of it. `timeDynamicW`: the idle power the 'time' rule subtracts for
 * `dynamicEnergyJ` (the measured baseline), or undefined for none.
 */
export function attributeInterval(
  rule: AttributionRule,
  s: IntervalSample,
  load: Readonly<IntervalLoad>,
  floors: Floors,
  cpuBusyMs: number,
  trackerMs: number,
  timeDynamicW: number | undefined,
  tot: MutableTotals,
): Rates {
  const lengthMs = Math.max(s.endMs - s.startMs, 0);
  const callMs = load.callMs;
  const busyMs = Math.min(Math.max(load.busyMs, 0), lengthMs);
  // Share of the interval with ≥ 1 call in flight.
  const f = callMs > 0 && lengthMs > 0 ? busyMs / lengthMs : 0;
  const g = 1 - f;
  const kgPerJ = s.energyJ > 0 ? s.emissionsKg / s.energyJ : 0;
  tot.intervals++;
  tot.observedS += lengthMs / 1000;
  tot.energyJ += s.energyJ;
  tot.emissionsKg += s.emissionsKg;
  tot.busyS += busyMs / 1000;
  tot.callS += callMs / 1000;
  tot.trackerCpuS += trackerMs / 1000;
  const perCallMs = f > 0 ? f / callMs : 0;

  if (rule === 'time') {
    addTo(tot, 'idle', s.cpuEnergyJ * g, s.gpuEnergyJ * g, s.ramEnergyJ * g, kgPerJ);
    addCalls(tot, s.energyJ * f, kgPerJ);
    tot.cpuWorkS += cpuBusyMs / 1000;
    tot.callsCpuWorkS += load.workMs / 1000;
    const dynTime =
      f > 0 && timeDynamicW !== undefined ? Math.max(0, s.energyJ * f - (timeDynamicW * busyMs) / 1000) / callMs : 0;
    return {
      ...NO_RATES,
      cpuTime: s.cpuEnergyJ * perCallMs,
      gpuTime: s.gpuEnergyJ * perCallMs,
      ramTime: s.ramEnergyJ * perCallMs,
      gpuStatic: s.gpuEnergyJ * perCallMs,
      dynTime,
      dynamicKnown: timeDynamicW !== undefined,
      kgPerJ,
    };
  }

  const split = (e: number, floorW: number | undefined) => {
    const st = Math.min(e, Math.max(0, ((floorW ?? 0) * lengthMs) / 1000));
    return { st, dyn: e - st };
  };
  const cpu = split(s.cpuEnergyJ, floors.cpu);
  const gpu = split(s.gpuEnergyJ, floors.gpu);
  const ram = split(s.ramEnergyJ, floors.ram);

  // CPU dynamic energy by work: every ms of CPU work in the interval gets the same energy.
  const workMs = Math.max(cpuBusyMs, load.workMs + trackerMs);
  const cpuWork = workMs > 0 ? cpu.dyn / workMs : 0;
  const cpuCalls = cpuWork * load.workMs;
  const cpuTracker = cpuWork * trackerMs;
  tot.cpuWorkS += workMs / 1000;
  tot.callsCpuWorkS += load.workMs / 1000;
  tot.trackerEnergyJ += cpuTracker;

  // GPU dynamic energy while calls are in flight: token streams as a group get their time share,
  // divided among them by tokens produced in the interval.
  const gpuDynTime = gpu.dyn * perCallMs;
  const tokensOn = load.tokens > 0 && load.tokenCallMs > 0;
  const gpuToken = tokensOn ? (gpuDynTime * load.tokenCallMs) / load.tokens : 0;

  const idleJ = addTo(tot, 'idle', cpu.st * g, gpu.st * g, ram.st * g, kgPerJ);
  const unattributedJ = addTo(tot, 'unattributed', cpu.dyn - cpuCalls, gpu.dyn * g, ram.dyn * g, kgPerJ);
  addCalls(tot, s.energyJ - idleJ - unattributedJ, kgPerJ);

  return {
    cpuTime: cpu.st * perCallMs,
    cpuWork,
    gpuTime: s.gpuEnergyJ * perCallMs,
    gpuStatic: gpu.st * perCallMs,
    gpuToken,
    tokensOn,
    ramTime: s.ramEnergyJ * perCallMs,
    dynTime: gpuDynTime + ram.dyn * perCallMs,
    gpuDynTime,
    dynamicKnown: floors.cpu !== undefined && floors.gpu !== undefined && floors.ram !== undefined,
    kgPerJ,
  };
}

/** Adds idle or unattributed energy, per component; returns their sum. */
function addTo(tot: MutableTotals, where: 'idle' | 'unattributed', cpuJ: number, gpuJ: number, ramJ: number, kgPerJ: number): number {
  const energyJ = cpuJ + gpuJ + ramJ;
  if (where === 'idle') {
    tot.idleCpuEnergyJ += cpuJ;
    tot.idleGpuEnergyJ += gpuJ;
    tot.idleRamEnergyJ += ramJ;
    tot.idleEnergyJ += energyJ;
    tot.idleEmissionsKg += energyJ * kgPerJ;
  } else {
    tot.unattributedCpuEnergyJ += cpuJ;
    tot.unattributedGpuEnergyJ += gpuJ;
    tot.unattributedRamEnergyJ += ramJ;
    tot.unattributedEnergyJ += energyJ;
    tot.unattributedEmissionsKg += energyJ * kgPerJ;
  }
  return energyJ;
}

function addCalls(tot: MutableTotals, energyJ: number, kgPerJ: number): void {
  tot.callsEnergyJ += energyJ;
  tot.callsEmissionsKg += energyJ * kgPerJ;
}
