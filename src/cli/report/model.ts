import { COMPONENTS, type Component, type SourceKind } from '../../types.js';
import { formatDurationS, formatShare, sig } from '../format.js';
import type { ReportInput, ResultRow } from './load.js';
import type { SampleRow } from './timeline.js';
import { inUnit, type Unit } from './units.js';
import { J_PER_KWH } from '../../units.js';

/** How a component's energy was obtained in a run; `unknown` for a CSV, which does not say. */
export type ComponentKind = SourceKind | 'none' | 'unknown';

/** A point of the power chart: mean power of each component over the interval that ends at `tS`. */
export interface PowerPoint {
  /** Seconds since the run started at the start of the interval. */
  readonly t0S: number;
  /** Seconds since the run started (end of the interval). */
  readonly tS: number;
  readonly powerW: Readonly<Record<Component, number>>;
}

export interface RunSummary {
  readonly projectName: string;
  readonly runId: string;
  readonly experimentName?: string;
  /** Timestamp of the run's first row (rows are stamped when written). */
  readonly firstTimestamp: string;
  /** The cumulative totals of the run (its last row), or the sum of its tasks when only tasks are known. */
  readonly total: ResultRow;
  readonly fromTasks: boolean;
  /** Cumulative rows in duration order. */
  readonly snapshots: readonly ResultRow[];
  readonly tasks: readonly ResultRow[];
  readonly power: readonly PowerPoint[];
  /** Where `power` comes from: the timeline's samples, or deltas between cumulative rows. */
  readonly powerFrom: 'samples' | 'rows';
  /** Timeline samples of the run. */
  readonly samples: readonly SampleRow[];
  /** Components with non-zero energy in this run, in output order. */
  readonly components: readonly Component[];
  /** Measured, estimated or unknown, per component (from the boundary of JSON rows or the timeline). */
  readonly kinds: Readonly<Record<Component, ComponentKind>>;
}

const energyOf = (r: ResultRow, c: Component) => (c === 'cpu' ? r.cpuEnergyKWh : c === 'gpu' ? r.gpuEnergyKWh : r.ramEnergyKWh);

/**
 * Power over time from cumulative rows: between two successive rows, each component's mean power is
 * its energy delta over the duration delta (the CSV's `*_power` columns are run-long means, which
 * would flatten every change). The first interval starts at the run's start.
 */
export function powerSeries(snapshots: readonly ResultRow[]): PowerPoint[] {
  const points: PowerPoint[] = [];
  let prevT = 0;
  let prev: Record<Component, number> = { cpu: 0, gpu: 0, ram: 0 };
  for (const row of snapshots) {
    const dt = row.durationS - prevT;
    const now = { cpu: row.cpuEnergyKWh, gpu: row.gpuEnergyKWh, ram: row.ramEnergyKWh };
    if (dt > 0) {
      const powerW = { cpu: 0, gpu: 0, ram: 0 };
      for (const c of COMPONENTS) powerW[c] = Math.max(0, ((now[c] - prev[c]) * J_PER_KWH) / dt);
      points.push({ t0S: prevT, tS: row.durationS, powerW });
      prevT = row.durationS;
      prev = now;
    }
  }
  return points;
}

function sumTasks(tasks: readonly ResultRow[]): ResultRow {
  const first = tasks[0]!;
  const add = (f: (r: ResultRow) => number) => tasks.reduce((s, r) => s + f(r), 0);
  return {
    ...first,
    taskName: undefined,
    durationS: add((r) => r.durationS),
    emissionsKg: add((r) => r.emissionsKg),
    cpuEnergyKWh: add((r) => r.cpuEnergyKWh),
    gpuEnergyKWh: add((r) => r.gpuEnergyKWh),
    ramEnergyKWh: add((r) => r.ramEnergyKWh),
    energyKWh: add((r) => r.energyKWh),
  };
}

/** A run's totals from its timeline alone (no result row): sums of the samples' energies and emissions. */
function totalFromSamples(samples: readonly SampleRow[]): ResultRow {
  const sum = (f: (s: SampleRow) => number) => samples.reduce((a, s) => a + f(s), 0);
  const kWh = (c: Component) => sum((s) => s.energyJ[c]) / J_PER_KWH;
  const first = samples[0]!;
  return {
    timestamp: first.timestamp,
    projectName: first.projectName,
    runId: first.runId,
    durationS: Math.max(...samples.map((s) => s.tS)),
    emissionsKg: sum((s) => s.emissionsKg),
    cpuEnergyKWh: kWh('cpu'),
    gpuEnergyKWh: kWh('gpu'),
    ramEnergyKWh: kWh('ram'),
    energyKWh: kWh('cpu') + kWh('gpu') + kWh('ram'),
  };
}

function kindsOf(rows: readonly ResultRow[], samples: readonly SampleRow[]): Record<Component, ComponentKind> {
  const kinds = { cpu: 'unknown', gpu: 'unknown', ram: 'unknown' } as Record<Component, ComponentKind>;
  const boundary = [...rows].reverse().find((r) => r.boundary)?.boundary;
  const last = samples[samples.length - 1];
  for (const c of COMPONENTS) {
    const fromRow = boundary?.[c]?.kind;
    if (fromRow === 'measured' || fromRow === 'estimated' || fromRow === 'none') kinds[c] = fromRow;
    else if (last) kinds[c] = last.kinds[c];
  }
  return kinds;
}

const runKey = (r: { projectName: string; runId: string }) => `${r.projectName}\u0000${r.runId}`;

/**
 * Groups rows and timeline samples by project and run (first appearance order), separating task
 * rows from run rows. Power over time comes from the samples where the run has some.
 */
export function summarizeRuns(input: ReportInput): RunSummary[] {
  const groups = new Map<string, { rows: ResultRow[]; samples: SampleRow[] }>();
  const group = (key: string) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { rows: [], samples: [] }));
    return g;
  };
  for (const row of input.rows) group(runKey(row)).rows.push(row);
  for (const s of input.samples) group(runKey(s)).samples.push(s);
  return [...groups.values()].map(({ rows, samples }) => {
    samples.sort((a, b) => a.tS - b.tS);
    const tasks = rows.filter((r) => r.taskName !== undefined);
    const snapshots = rows.filter((r) => r.taskName === undefined).sort((a, b) => a.durationS - b.durationS);
    const fromTasks = snapshots.length === 0 && tasks.length > 0;
    const total = snapshots.length > 0 ? snapshots[snapshots.length - 1]! : fromTasks ? sumTasks(tasks) : totalFromSamples(samples);
    const power = samples.length > 0 ? samples.map((s) => ({ t0S: s.t0S, tS: s.tS, powerW: s.powerW })) : powerSeries(snapshots);
    const components = COMPONENTS.filter((c) => energyOf(total, c) > 0 || power.some((p) => p.powerW[c] > 0));
    const first = rows[0] ?? totalFromSamples(samples);
    return {
      projectName: first.projectName,
      runId: first.runId,
      ...(first.experimentName !== undefined ? { experimentName: first.experimentName } : {}),
      firstTimestamp: rows.length > 0 ? [...rows].sort((a, b) => a.durationS - b.durationS)[0]!.timestamp : first.timestamp,
      total,
      fromTasks,
      snapshots,
      tasks,
      power,
      powerFrom: samples.length > 0 ? 'samples' : 'rows',
      samples,
      components,
      kinds: kindsOf(rows, samples),
    };
  });
}

/** Grams of CO2eq per kWh of a result (its effective intensity); undefined without energy. */
export function gramsPerKWh(r: ResultRow): number | undefined {
  return r.energyKWh > 0 ? (r.emissionsKg * 1000) / r.energyKWh : undefined;
}

export { energyOf };

/** A run's id for tables: shortened, marked when its totals come from task rows. */
export function runLabel(r: RunSummary): string {
  return shortId(r.runId) + (r.fromTasks ? ' (tasks)' : '');
}

/** A run id short enough for a table or a chart title. */
export const shortId = (id: string): string => (id.length > 13 ? `${id.slice(0, 8)}…` : id);

/** Units of the energy and CO2eq columns of a table. */
export interface ColumnUnits {
  readonly energy: Unit;
  readonly mass: Unit;
}

/** A component's share of a result, marked `*` when the component was estimated. */
export function shareCell(t: ResultRow, c: Component, kind: ComponentKind): string {
  return formatShare(energyOf(t, c), t.energyKWh) + (kind === 'estimated' && energyOf(t, c) > 0 ? '*' : '');
}

/** The totals columns shared by the terminal and HTML run tables: duration … g/kWh, energy and CO2eq in `units`. */
export function runTotalCells(r: RunSummary, units: ColumnUnits): string[] {
  const t = r.total;
  const g = gramsPerKWh(t);
  return [
    formatDurationS(t.durationS),
    inUnit(t.energyKWh, units.energy),
    ...COMPONENTS.map((c) => shareCell(t, c, r.kinds[c])),
    inUnit(t.emissionsKg, units.mass),
    g === undefined ? '–' : sig(g),
  ];
}

/** Whether any component of these runs was estimated (tables then explain the `*`). */
export const anyEstimated = (runs: readonly RunSummary[]): boolean =>
  runs.some((r) => COMPONENTS.some((c) => r.kinds[c] === 'estimated' && energyOf(r.total, c) > 0));
