import { COMPONENTS, type Component } from '../../types.js';
import { formatDurationS, formatEnergyKWh, formatMassKg, formatShare, sig } from '../format.js';
import type { ReportInput, ResultRow } from './load.js';
import { J_PER_KWH } from '../../units.js';

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
  /** Components with non-zero energy in this run, in output order. */
  readonly components: readonly Component[];
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

/** Groups rows by project and run (first appearance order), separating task rows from run rows. */
export function summarizeRuns(input: ReportInput): RunSummary[] {
  const groups = new Map<string, ResultRow[]>();
  for (const row of input.rows) {
    const key = `${row.projectName}\u0000${row.runId}`;
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((rows) => {
    const tasks = rows.filter((r) => r.taskName !== undefined);
    const snapshots = rows.filter((r) => r.taskName === undefined).sort((a, b) => a.durationS - b.durationS);
    const fromTasks = snapshots.length === 0;
    const total = fromTasks ? sumTasks(tasks) : snapshots[snapshots.length - 1]!;
    const power = powerSeries(snapshots);
    const components = COMPONENTS.filter((c) => energyOf(total, c) > 0 || power.some((p) => p.powerW[c] > 0));
    const first = rows[0]!;
    return {
      projectName: first.projectName,
      runId: first.runId,
      ...(first.experimentName !== undefined ? { experimentName: first.experimentName } : {}),
      firstTimestamp: [...rows].sort((a, b) => a.durationS - b.durationS)[0]!.timestamp,
      total,
      fromTasks,
      snapshots,
      tasks,
      power,
      components,
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

/** The totals columns shared by the terminal and HTML run tables: duration … g/kWh. */
export function runTotalCells(r: RunSummary): string[] {
  const t = r.total;
  const g = gramsPerKWh(t);
  return [
    formatDurationS(t.durationS),
    formatEnergyKWh(t.energyKWh),
    formatShare(t.cpuEnergyKWh, t.energyKWh),
    formatShare(t.gpuEnergyKWh, t.energyKWh),
    formatShare(t.ramEnergyKWh, t.energyKWh),
    formatMassKg(t.emissionsKg),
    g === undefined ? '–' : sig(g),
  ];
}
