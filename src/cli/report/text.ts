import { COMPONENTS } from '../../types.js';
import { formatDurationS, formatShare, sig, table } from '../format.js';
import { EQUIVALENT_SOURCES, equivalents } from './equivalents.js';
import type { ReportInput, RequestStats } from './load.js';
import { anyEstimated, energyOf, runLabel, runTotalCells, shortId, summarizeRuns, type ColumnUnits, type RunSummary } from './model.js';
import { energyUnit, inUnit, massUnit } from './units.js';
import { J_PER_KWH } from '../../units.js';

function runRow(r: RunSummary, units: ColumnUnits): string[] {
  return [runLabel(r), r.firstTimestamp, String(r.snapshots.length + r.tasks.length), ...runTotalCells(r, units)];
}

/** A bin bound in joules for a text table: `0.316`, `+∞`. */
const bound = (j: number) => (Number.isFinite(j) ? sig(j) : '+∞');

/** Per-request figures in words, from the report's call statistics or the timeline's histograms. */
export function requestLines(requests: readonly RequestStats[]): string[] {
  const energies = requests.flatMap((q) => [q.meanEnergyJ, q.p50EnergyJ, q.p95EnergyJ]).filter((v): v is number => v !== undefined);
  const eu = energyUnit(Math.max(0, ...energies) / J_PER_KWH);
  const mu = massUnit(Math.max(0, ...requests.map((q) => q.meanEmissionsKg ?? 0)));
  const rows: string[][] = [['requests', 'count', `mean energy (${eu.label})`, 'p50', 'p95', `CO2eq per request (${mu.label})`, 'requests per kWh']];
  for (const q of requests) {
    const j = (v: number | undefined) => (v === undefined ? '–' : inUnit(v / J_PER_KWH, eu));
    rows.push([
      q.name,
      String(q.count),
      j(q.meanEnergyJ),
      j(q.p50EnergyJ),
      j(q.p95EnergyJ),
      q.meanEmissionsKg === undefined ? '–' : inUnit(q.meanEmissionsKg, mu),
      q.requestsPerKWh === undefined ? '–' : sig(q.requestsPerKWh),
    ]);
  }
  const out = [table(rows)];
  for (const q of requests) {
    if (!q.histogram) continue;
    const most = Math.max(...q.histogram.map((b) => b.count), 1);
    const bins = [['energy per request (J)', 'requests', ''], ...q.histogram.map((b) => [`${bound(b.fromJ)} – ${bound(b.toJ)}`, String(b.count), '#'.repeat(Math.round((b.count / most) * 30))])];
    out.push(`  distribution of ${q.name}`, table(bins, '    '));
  }
  return out;
}

/** "≈ 1.2 km by car, 35 phone charges" for a total. */
export function equivalentsLine(energyKWh: number, emissionsKg: number): string {
  const e = equivalents(energyKWh, emissionsKg);
  return `≈ ${sig(e.carKm)} km by car (same CO2eq), ${sig(e.phoneCharges)} smartphone charges (same energy)`;
}

/** The terminal summary of `wattprint report`: totals per project and run, energy split, g/kWh, per request. */
export function formatReportText(input: ReportInput): string {
  const runs = summarizeRuns(input);
  const projects = new Map<string, RunSummary[]>();
  for (const r of runs) projects.set(r.projectName, [...(projects.get(r.projectName) ?? []), r]);
  const rowsLabel = input.samples.length > 0 ? `, ${input.samples.length} sample${input.samples.length === 1 ? '' : 's'}` : '';
  const out: string[] = [
    `wattprint report: ${input.path} (${input.format}, ${input.rows.length} row${input.rows.length === 1 ? '' : 's'}${rowsLabel}, ` +
      `${runs.length} run${runs.length === 1 ? '' : 's'} in ${projects.size} project${projects.size === 1 ? '' : 's'})`,
  ];
  for (const [project, list] of projects) {
    const sum = (f: (r: RunSummary) => number) => list.reduce((s, r) => s + f(r), 0);
    const energy = sum((r) => r.total.energyKWh);
    const emissions = sum((r) => r.total.emissionsKg);
    // One unit per column: the largest cell (the project total) picks it.
    const units: ColumnUnits = { energy: energyUnit(energy), mass: massUnit(emissions) };
    const header = ['run', 'first row at', 'rows', 'duration', `energy (${units.energy.label})`, 'cpu', 'gpu', 'ram', `CO2eq (${units.mass.label})`, 'g/kWh'];
    const rows = [header, ...list.map((r) => runRow(r, units))];
    rows.push([
      'total',
      '',
      String(sum((r) => r.snapshots.length + r.tasks.length)),
      formatDurationS(sum((r) => r.total.durationS)),
      inUnit(energy, units.energy),
      ...COMPONENTS.map((c) => formatShare(sum((r) => energyOf(r.total, c)), energy)),
      inUnit(emissions, units.mass),
      energy > 0 ? sig((emissions * 1000) / energy) : '–',
    ]);
    out.push('', `project ${project} (${list.length} run${list.length === 1 ? '' : 's'})`, table(rows));
    if (anyEstimated(list)) out.push('  * estimated from a model (TDP × load, DIMM count), not measured');
    if (energy > 0) out.push(`  ${equivalentsLine(energy, emissions)}`);
    for (const r of list.filter((x) => x.tasks.length > 0)) {
      const tu: ColumnUnits = { energy: energyUnit(Math.max(...r.tasks.map((t) => t.energyKWh))), mass: massUnit(Math.max(...r.tasks.map((t) => t.emissionsKg))) };
      const taskRows = [
        ['task', 'duration', `energy (${tu.energy.label})`, `CO2eq (${tu.mass.label})`],
        ...r.tasks.map((t) => [t.taskName ?? '', formatDurationS(t.durationS), inUnit(t.energyKWh, tu.energy), inUnit(t.emissionsKg, tu.mass)]),
      ];
      out.push(`  tasks of run ${shortId(r.runId)}`, table(taskRows, '    '));
    }
  }
  if (input.requests.length > 0) out.push('', ...requestLines(input.requests));
  else if (input.format === 'report') out.push('', 'no per-request data: no calls were tracked in this run');
  if (runs.some((r) => r.total.energyKWh > 0)) out.push('', 'Equivalents:', ...EQUIVALENT_SOURCES.map((s) => `  ${s}`));
  return out.join('\n');
}
