/**
 * Reading the timeline lines (`type: 'sample'` and `type: 'calls'`, see src/exporters/timeline.ts)
 * of a timeline file or of an emissions.jsonl that holds them.
 */
import { COMPONENTS, type Component, type SourceKind } from '../../types.js';
import { CliError, EXIT } from '../exit.js';

/** One sample of a run: the interval's energy (J, after PUE) and mean power per component. */
export interface SampleRow {
  readonly projectName: string;
  readonly runId: string;
  readonly timestamp: string;
  readonly t0S: number;
  readonly tS: number;
  readonly energyJ: Readonly<Record<Component, number>>;
  readonly powerW: Readonly<Record<Component, number>>;
  readonly emissionsKg: number;
  readonly kinds: Readonly<Record<Component, SourceKind | 'none' | 'unknown'>>;
}

/** The per-call energy histogram of one call name in one run (cumulative; the last line wins). */
export interface CallHistogram {
  readonly projectName: string;
  readonly runId: string;
  readonly name: string;
  readonly count: number;
  readonly energyJ: number;
  /** Upper bounds (J); `counts` has one more entry, for calls above the last bound. */
  readonly boundsJ: readonly number[];
  readonly counts: readonly number[];
}

/** A call name's distribution, shaped as the report's `RequestStats`. */
export interface HistogramStats {
  readonly name: string;
  readonly count: number;
  readonly totalEnergyJ: number;
  readonly meanEnergyJ: number;
  readonly histogram: ReadonlyArray<{ readonly fromJ: number; readonly toJ: number; readonly count: number }>;
}

export type TimelineEntry = { readonly sample: SampleRow } | { readonly calls: readonly CallHistogram[] };

const bad = (where: string, what: string) => new CliError(`${where}: ${what} (a timeline line written by wattprint --timeline)`, EXIT.USAGE);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(rec: Record<string, unknown>, key: string, where: string): number {
  const v = rec[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(where, `'${key}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}`);
  return v;
}

const KINDS = new Set(['measured', 'estimated', 'none']);

/** The timeline entry of a JSON line, or undefined when the line is not a timeline line (a result row). */
export function timelineEntry(rec: Record<string, unknown>, where: string): TimelineEntry | undefined {
  if (rec.type !== 'sample' && rec.type !== 'calls') return undefined;
  const ids = {
    projectName: typeof rec.project_name === 'string' ? rec.project_name : '(no project)',
    runId: typeof rec.run_id === 'string' ? rec.run_id : '(no run id)',
  };
  if (rec.type === 'sample') {
    const kindsIn = isObject(rec.kinds) ? rec.kinds : {};
    const energyJ = {} as Record<Component, number>;
    const powerW = {} as Record<Component, number>;
    const kinds = {} as Record<Component, SourceKind | 'none' | 'unknown'>;
    for (const c of COMPONENTS) {
      energyJ[c] = num(rec, `${c}_energy_j`, where);
      powerW[c] = num(rec, `${c}_power_w`, where);
      const k = kindsIn[c];
      kinds[c] = typeof k === 'string' && KINDS.has(k) ? (k as SourceKind | 'none') : 'unknown';
    }
    const t0S = num(rec, 't0_s', where);
    const tS = num(rec, 't_s', where);
    if (!(tS >= t0S)) throw bad(where, `'t_s' (${tS}) is before 't0_s' (${t0S})`);
    return {
      sample: { ...ids, timestamp: typeof rec.timestamp === 'string' ? rec.timestamp : '', t0S, tS, energyJ, powerW, emissionsKg: num(rec, 'emissions_kg', where), kinds },
    };
  }
  const bounds = rec.bucket_bounds_j;
  if (!Array.isArray(bounds) || !bounds.every((b) => typeof b === 'number' && Number.isFinite(b) && b > 0)) throw bad(where, "'bucket_bounds_j' is not a list of bounds");
  if (!Array.isArray(rec.calls)) throw bad(where, "'calls' is not a list");
  const calls = rec.calls.filter(isObject).map((c): CallHistogram => {
    const counts = c.counts;
    if (!Array.isArray(counts) || counts.length !== bounds.length + 1 || !counts.every((n) => Number.isInteger(n) && (n as number) >= 0))
      throw bad(where, `the counts of '${String(c.name)}' do not match 'bucket_bounds_j'`);
    return { ...ids, name: String(c.name ?? '(unnamed)'), count: num(c, 'count', where), energyJ: num(c, 'energy_j', where), boundsJ: bounds as number[], counts: counts as number[] };
  });
  return { calls };
}

/**
 * Per-request energy distributions from the timeline's histograms: the last line of each run and
 * name, summed per name over runs with the same buckets. Bins run from the first to the last
 * non-empty bucket; the first bucket starts at 0, the overflow bucket ends at +∞.
 */
export function requestsFromHistograms(histograms: readonly CallHistogram[]): HistogramStats[] {
  const latest = new Map<string, CallHistogram>();
  for (const h of histograms) latest.set(`${h.projectName}\u0000${h.runId}\u0000${h.name}`, h);
  const byName = new Map<string, { count: number; energyJ: number; boundsJ: readonly number[]; counts: number[] }>();
  for (const h of latest.values()) {
    const acc = byName.get(h.name);
    if (!acc) byName.set(h.name, { count: h.count, energyJ: h.energyJ, boundsJ: h.boundsJ, counts: [...h.counts] });
    else if (acc.boundsJ.join() === h.boundsJ.join()) {
      acc.count += h.count;
      acc.energyJ += h.energyJ;
      h.counts.forEach((n, i) => (acc.counts[i]! += n));
    }
  }
  return [...byName].flatMap(([name, h]) => {
    if (h.count === 0) return [];
    const first = h.counts.findIndex((n) => n > 0);
    const last = h.counts.length - 1 - [...h.counts].reverse().findIndex((n) => n > 0);
    const histogram = h.counts.slice(first, last + 1).map((count, j) => {
      const i = first + j;
      return { fromJ: i === 0 ? 0 : h.boundsJ[i - 1]!, toJ: i < h.boundsJ.length ? h.boundsJ[i]! : Infinity, count };
    });
    return [{ name, count: h.count, totalEnergyJ: h.energyJ, meanEnergyJ: h.energyJ / h.count, histogram }];
  });
}
