import { formatDurationS, formatEnergyKWh, formatMassKg, formatShare, sig, table } from '../format.js';
import type { ReportInput, RequestStats } from './load.js';
import { runLabel, runTotalCells, shortId, summarizeRuns, type RunSummary } from './model.js';
import { J_PER_KWH } from '../../units.js';

function runRow(r: RunSummary): string[] {
  return [runLabel(r), r.firstTimestamp, String(r.snapshots.length + r.tasks.length), ...runTotalCells(r)];
}

/** Per-request figures in words, from the report's call statistics. */
export function requestLines(requests: readonly RequestStats[]): string[] {
  const rows: string[][] = [['requests', 'count', 'mean energy', 'p50', 'p95', 'CO2eq per request', 'requests per kWh']];
  for (const q of requests) {
    const j = (v: number | undefined) => (v === undefined ? '–' : formatEnergyKWh(v / J_PER_KWH));
    rows.push([
      q.name,
      String(q.count),
      j(q.meanEnergyJ),
      j(q.p50EnergyJ),
      j(q.p95EnergyJ),
      q.meanEmissionsKg === undefined ? '–' : formatMassKg(q.meanEmissionsKg),
      q.requestsPerKWh === undefined ? '–' : sig(q.requestsPerKWh),
    ]);
  }
  return [table(rows)];
}

/** The terminal summary of `wattprint report`: totals per project and run, energy split, g/kWh, per request. */
export function formatReportText(input: ReportInput): string {
  const runs = summarizeRuns(input);
  const projects = new Map<string, RunSummary[]>();
  for (const r of runs) projects.set(r.projectName, [...(projects.get(r.projectName) ?? []), r]);
  const out: string[] = [
    `wattprint report: ${input.path} (${input.format}, ${input.rows.length} row${input.rows.length === 1 ? '' : 's'}, ` +
      `${runs.length} run${runs.length === 1 ? '' : 's'} in ${projects.size} project${projects.size === 1 ? '' : 's'})`,
  ];
  const header = ['run', 'first row at', 'rows', 'duration', 'energy', 'cpu', 'gpu', 'ram', 'CO2eq', 'g/kWh'];
  for (const [project, list] of projects) {
    const sum = (f: (r: RunSummary) => number) => list.reduce((s, r) => s + f(r), 0);
    const energy = sum((r) => r.total.energyKWh);
    const emissions = sum((r) => r.total.emissionsKg);
    const rows = [header, ...list.map(runRow)];
    rows.push([
      'total',
      '',
      String(sum((r) => r.snapshots.length + r.tasks.length)),
      formatDurationS(sum((r) => r.total.durationS)),
      formatEnergyKWh(energy),
      formatShare(sum((r) => r.total.cpuEnergyKWh), energy),
      formatShare(sum((r) => r.total.gpuEnergyKWh), energy),
      formatShare(sum((r) => r.total.ramEnergyKWh), energy),
      formatMassKg(emissions),
      energy > 0 ? sig((emissions * 1000) / energy) : '–',
    ]);
    out.push('', `project ${project} (${list.length} run${list.length === 1 ? '' : 's'})`, table(rows));
    for (const r of list.filter((x) => x.tasks.length > 0)) {
      const taskRows = [['task', 'duration', 'energy', 'CO2eq'], ...r.tasks.map((t) => [t.taskName ?? '', formatDurationS(t.durationS), formatEnergyKWh(t.energyKWh), formatMassKg(t.emissionsKg)])];
      out.push(`  tasks of run ${shortId(r.runId)}`, table(taskRows, '    '));
    }
  }
  if (input.requests.length > 0) out.push('', ...requestLines(input.requests));
  else if (input.format === 'report') out.push('', 'no per-request data: no calls were tracked in this run');
  return out.join('\n');
}
