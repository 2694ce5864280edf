import { WattprintError } from '../errors.js';
import { readCpuInfo, type CpuInfo } from '../system/cpuinfo.js';
import { readSystemCpuTimes, type CpuTimes } from '../system/procstat.js';
import { processTreeCpuS } from '../system/proctree.js';
import type { DeviceInfo, EnergyReading, PowerSource, ProbeResult, SourceContext } from '../types.js';
import table from './data/cpu-tdp.json' with { type: 'json' };

/** A row of CodeCarbon's CPU table that a model name matched. */
export interface CpuTdpMatch {
  /** The table row's name, e.g. `'Intel Xeon Gold 6248'`. */
  name: string;
  /** The row's TDP in watts (per chip). */
  tdpW: number;
  /** Which rule matched: case-insensitive equality, equality after normalising, or a unique token-set match. */
  match: 'exact' | 'normalized' | 'token-set';
}

/** TDP assumed per logical thread when the model is not in the table (CodeCarbon `DEFAULT_POWER_PER_CORE`). */
export const DEFAULT_W_PER_THREAD = 4;
/** Share of TDP drawn at idle in the load model: P = TDP × (IDLE_SHARE + (1 − IDLE_SHARE) × load³). */
export const IDLE_SHARE = 0.1;
/** Load assumed when no CPU times can be read (CodeCarbon's constant mode, 50 % of TDP). */
const CONSTANT_LOAD_SHARE = 0.5;

interface Index {
  rows: readonly (readonly [string, number])[];
  byLower: Map<string, number>;
  tokens: string[][];
  postings: Map<string, number[]>;
}

let index: Index | undefined;

function getIndex(): Index {
  if (index) return index;
  const rows = table.rows as unknown as (readonly [string, number])[];
  const byLower = new Map<string, number>();
  const postings = new Map<string, number[]>();
  const tokens = rows.map(([name], i) => {
    // First row wins, as rapidfuzz extractOne keeps the first best score.
    if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), i);
    const set = tokenSet(name);
    for (const t of set) {
      const list = postings.get(t);
      if (list) list.push(i);
      else postings.set(t, [i]);
    }
    return set;
  });
  return (index = { rows, byLower, tokens, postings });
}

/** rapidfuzz `utils.default_process` then whitespace split, deduplicated. */
function tokenSet(s: string): string[] {
  const processed = s.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim();
  return processed === '' ? [] : [...new Set(processed.split(/\s+/))];
}

/** CodeCarbon's second pass: drop "(R)", cut at " CPU @ ", drop " CPU" and a trailing clock. */
function normalise(model: string): string {
  let m = model.replaceAll('(R)', '');
  const at = m.indexOf(' CPU @ ');
  if (at > 0) m = m.slice(0, at);
  return m.replaceAll(' CPU', '').replace(/ @\s*\d+\.\d+GHz/g, '');
}

/**
 * Finds a CPU model in CodeCarbon's TDP table (4903 models), with CodeCarbon 3.x's rules:
 * 1. case-insensitive equality;
 * 2. equality after normalising (remove "(R)", cut at " CPU @ ", remove " CPU", remove " @ 2.50GHz");
 * 3. token-set match of the normalised name (rapidfuzz `token_set_ratio` = 100 with `default_process`:
 *    lower-case, punctuation to spaces; one token set contains the other), accepted only when exactly
 *    one row matches.
 *
 * @example
 * lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz')
 * // { name: 'Intel Xeon Gold 6248', tdpW: 150, match: 'normalized' }
 * @returns the matched row, or undefined when no rule finds exactly one row.
 */
export function lookupCpuTdp(name: string): CpuTdpMatch | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const idx = getIndex();
  const row = (i: number, match: CpuTdpMatch['match']): CpuTdpMatch => ({
    name: idx.rows[i]![0],
    tdpW: idx.rows[i]![1],
    match,
  });
  const exact = idx.byLower.get(name.toLowerCase());
  if (exact !== undefined) return row(exact, 'exact');
  const normalised = normalise(name);
  const norm = idx.byLower.get(normalised.toLowerCase());
  if (norm !== undefined) return row(norm, 'normalized');

  const query = tokenSet(normalised);
  if (query.length === 0) return undefined;
  const q = new Set(query);
  const candidates = new Set<number>();
  for (const t of query) for (const i of idx.postings.get(t) ?? []) candidates.add(i);
  let found: number | undefined;
  for (const i of candidates) {
    const r = idx.tokens[i]!;
    const rowInQuery = r.every((t) => q.has(t));
    const queryInRow = rowInQuery ? true : query.every((t) => r.includes(t));
    if (rowInQuery || queryInRow) {
      if (found !== undefined) return undefined;
      found = i;
    }
  }
  return found === undefined ? undefined : row(found, 'token-set');
}

/** The TDP the CPU estimate uses, and how it was decided (see {@link cpuTdp}). */
export interface CpuTdpBasis {
  /** Watts for the whole machine (all sockets). */
  tdpW: number;
  /** `'forced'`: given (forceCpuPowerW); `'table'`: CodeCarbon's table × sockets; `'per-thread'`: 4 W × threads. */
  source: 'forced' | 'table' | 'per-thread';
  /** The table row, for `'table'`. */
  match?: CpuTdpMatch;
  details: Record<string, string | number | boolean>;
  note: string;
}

/**
 * CodeCarbon's TDP rule, the one place it lives: a forced power wins; else the table row's TDP ×
 * sockets (a 0 W row counts as unknown, as CodeCarbon's `if power:`); else
 * {@link DEFAULT_W_PER_THREAD} × logical threads.
 *
 * @example
 * cpuTdp({ model: 'AMD EPYC 7763 64-Core Processor', threads: 128, sockets: 1 }).tdpW // 280
 */
export function cpuTdp(cpu: Pick<CpuInfo, 'model' | 'threads' | 'sockets'>, forcedW?: number): CpuTdpBasis {
  const common = { model: cpu.model, threads: cpu.threads, sockets: cpu.sockets };
  if (forcedW !== undefined) {
    return {
      tdpW: forcedW,
      source: 'forced',
      details: { ...common, tdpW: forcedW, tdpSource: 'forceCpuPowerW' },
      note: `TDP ${forcedW} W set by forceCpuPowerW`,
    };
  }
  const hit = lookupCpuTdp(cpu.model);
  if (hit && hit.tdpW > 0) {
    const tdpW = hit.tdpW * cpu.sockets;
    return {
      tdpW,
      source: 'table',
      match: hit,
      details: { ...common, tdpW, tdpPerSocketW: hit.tdpW, tdpSource: 'table', matchedRow: hit.name, match: hit.match },
      note: `TDP ${hit.tdpW} W × ${cpu.sockets} socket(s) from CodeCarbon's table row "${hit.name}" (${hit.match} match)`,
    };
  }
  const tdpW = DEFAULT_W_PER_THREAD * cpu.threads;
  return {
    tdpW,
    source: 'per-thread',
    details: { ...common, tdpW, tdpSource: `default ${DEFAULT_W_PER_THREAD} W/thread` },
    note: `CPU model "${cpu.model}" not in the TDP table: ${DEFAULT_W_PER_THREAD} W × ${cpu.threads} threads = ${tdpW} W`,
  };
}

/**
 * The CPU fallback: power estimated from a TDP and the CPU load, integrated between reads.
 *
 * - machine mode: P = TDP × (0.1 + 0.9 × load³), load = Δbusy / Δtotal of /proc/stat between reads;
 * - process mode: P = TDP × min(1, Δ tree CPU s / (Δwall s × threads));
 * - TDP: `opts.tdpW` (forceCpuPowerW), else the table TDP × sockets, else 4 W × threads.
 *
 * Each read covers the interval since the previous read (the first one since `start()`), with the
 * power of that interval. Probing always succeeds: this is the last CPU fallback.
 */
export function cpuTdpSource(ctx: SourceContext, opts: { tdpW?: number; cpu?: CpuInfo } = {}): PowerSource {
  const cpu = opts.cpu ?? readCpuInfo(ctx.procfsRoot);
  const basis = cpuTdp(cpu, opts.tdpW);
  const processMode = ctx.trackingMode === 'process';
  const device: DeviceInfo = { id: '0', name: cpu.model, details: basis.details };
  const formula = processMode
    ? 'P = TDP × tracked CPU-time share'
    : 'P = TDP × (0.1 + 0.9 × load³)';

  let started = false;
  let lastMs = 0;
  let lastTimes: CpuTimes | undefined;
  let lastTreeS: number | undefined;
  let totalJ = 0;
  let lastUtilization = 0;

  /** Power share of TDP over the interval ending now, and the utilisation in [0, 1]. */
  function intervalShare(wallS: number): { share: number; utilization: number } {
    if (processMode) {
      const nowS = processTreeCpuS(ctx.pid, ctx.procfsRoot);
      const prev = lastTreeS;
      if (nowS !== undefined) lastTreeS = nowS;
      if (nowS === undefined || prev === undefined) return { share: 0, utilization: 0 };
      const share = Math.min(1, Math.max(0, nowS - prev) / (wallS * cpu.threads));
      return { share, utilization: share };
    }
    const now = readSystemCpuTimes(ctx.procfsRoot);
    const prev = lastTimes;
    if (now !== undefined) lastTimes = now;
    if (now === undefined || prev === undefined) return { share: CONSTANT_LOAD_SHARE, utilization: lastUtilization };
    const totalS = now.totalS - prev.totalS;
    const load = totalS > 0 ? Math.min(1, Math.max(0, (now.busyS - prev.busyS) / totalS)) : lastUtilization;
    return { share: IDLE_SHARE + (1 - IDLE_SHARE) * load ** 3, utilization: load };
  }

  return {
    id: 'cpu-tdp',
    component: 'cpu',
    kind: 'estimated',
    scope: ctx.trackingMode,
    // The model's power at zero load: machine mode's floor; process mode has none.
    idlePowerW: processMode ? 0 : basis.tdpW * IDLE_SHARE,
    probe(): ProbeResult {
      return { ok: true, devices: [device], note: `estimated: ${basis.note}; ${formula}` };
    },
    start() {
      started = true;
      totalJ = 0;
      lastUtilization = 0;
      lastMs = ctx.nowMs();
      if (processMode) lastTreeS = processTreeCpuS(ctx.pid, ctx.procfsRoot);
      else lastTimes = readSystemCpuTimes(ctx.procfsRoot);
    },
    read(): EnergyReading {
      if (!started) throw new WattprintError('STATE', 'cpu-tdp source: read() called before start()');
      const nowMs = ctx.nowMs();
      const wallS = (nowMs - lastMs) / 1000;
      if (wallS > 0) {
        const { share, utilization } = intervalShare(wallS);
        totalJ += basis.tdpW * share * wallS;
        lastUtilization = utilization;
        lastMs = nowMs;
      }
      return { energyJ: totalJ, devicesJ: { [device.id]: totalJ }, utilizationPercent: lastUtilization * 100 };
    },
  };
}
