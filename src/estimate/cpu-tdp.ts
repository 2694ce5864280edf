import type { CpuInfo } from '../system/cpuinfo.js';
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
