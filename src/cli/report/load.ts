import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseCsv } from '../../reporters/index.js';
import type { Boundary } from '../../types.js';
import { CliError, EXIT } from '../exit.js';

/** One result row, from emissions.csv (CodeCarbon columns), emissions.jsonl or a report's totals. */
export interface ResultRow {
  readonly timestamp: string;
  readonly projectName: string;
  readonly runId: string;
  readonly experimentName?: string;
  readonly taskName?: string;
  readonly durationS: number;
  readonly emissionsKg: number;
  readonly cpuEnergyKWh: number;
  readonly gpuEnergyKWh: number;
  readonly ramEnergyKWh: number;
  readonly energyKWh: number;
  readonly countryName?: string;
  readonly region?: string;
  readonly trackingMode?: string;
  readonly cpuModel?: string;
  readonly gpuModel?: string;
  readonly pue?: number;
  readonly intensityGPerKWh?: number;
  readonly intensitySource?: string;
  readonly boundary?: Boundary;
}

/** Per-request figures of a wattprint-report.json, where calls were tracked. */
export interface RequestStats {
  readonly name: string;
  readonly count: number;
  /** Energy of each request in J, when the report lists them. */
  readonly energiesJ: readonly number[];
  readonly meanEnergyJ?: number;
  readonly p50EnergyJ?: number;
  readonly p95EnergyJ?: number;
  readonly meanEmissionsKg?: number;
  readonly totalEnergyJ?: number;
}

export interface ReportInput {
  readonly path: string;
  readonly format: 'csv' | 'jsonl' | 'report';
  readonly rows: readonly ResultRow[];
  readonly requests: readonly RequestStats[];
}

const bad = (where: string, what: string) =>
  new CliError(`${where}: ${what}; expected emissions.csv, emissions.jsonl or wattprint-report.json written by wattprint or CodeCarbon`, EXIT.USAGE);

function num(rec: Record<string, unknown>, key: string, where: string, required = true): number {
  const v = rec[key];
  if ((v === undefined || v === null || v === '') && !required) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw bad(where, `column '${key}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}`);
  return n;
}

function str(rec: Record<string, unknown>, key: string): string | undefined {
  const v = rec[key];
  if (v === undefined || v === null || v === '') return undefined;
  // Undo the CSV formula guard (a leading ' before = + - @).
  const s = String(v);
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

/** A row from a record keyed by CodeCarbon's snake_case column names (CSV and JSONL alike). */
export function rowFromRecord(rec: Record<string, unknown>, where: string): ResultRow {
  const cpu = num(rec, 'cpu_energy', where);
  const gpu = num(rec, 'gpu_energy', where);
  const ram = num(rec, 'ram_energy', where);
  const row: Record<string, unknown> = {
    timestamp: str(rec, 'timestamp') ?? '',
    projectName: str(rec, 'project_name') ?? '(no project)',
    runId: str(rec, 'run_id') ?? '(no run id)',
    durationS: num(rec, 'duration', where),
    emissionsKg: num(rec, 'emissions', where),
    cpuEnergyKWh: cpu,
    gpuEnergyKWh: gpu,
    ramEnergyKWh: ram,
    energyKWh: rec.energy_consumed === undefined ? cpu + gpu + ram : num(rec, 'energy_consumed', where),
  };
  const opt: Array<[string, string]> = [
    ['experimentName', 'experiment_name'],
    ['taskName', 'task_name'],
    ['countryName', 'country_name'],
    ['region', 'region'],
    ['trackingMode', 'tracking_mode'],
    ['cpuModel', 'cpu_model'],
    ['gpuModel', 'gpu_model'],
    ['intensitySource', 'intensity_source'],
  ];
  for (const [field, key] of opt) {
    const v = str(rec, key);
    if (v !== undefined) row[field] = v;
  }
  if (rec.pue !== undefined && rec.pue !== '') row.pue = num(rec, 'pue', where);
  if (rec.intensity_g_per_kwh !== undefined && rec.intensity_g_per_kwh !== null) row.intensityGPerKWh = num(rec, 'intensity_g_per_kwh', where);
  if (rec.boundary && typeof rec.boundary === 'object') row.boundary = rec.boundary;
  return row as unknown as ResultRow;
}

function fromCsv(text: string, path: string): ResultRow[] {
  const records = parseCsv(text);
  if (records.length === 0) throw bad(path, 'the file is empty');
  const header = records[0]!.map((h) => h.trim());
  for (const required of ['duration', 'emissions', 'cpu_energy', 'gpu_energy', 'ram_energy'])
    if (!header.includes(required)) throw bad(path, `no '${required}' column in the header`);
  return records.slice(1).flatMap((cells, i) => {
    if (cells.length === 1 && cells[0] === '') return [];
    const rec: Record<string, string> = {};
    header.forEach((h, j) => (rec[h] = cells[j] ?? ''));
    return [rowFromRecord(rec, `${path}:${i + 2}`)];
  });
}

function fromJsonl(text: string, path: string): ResultRow[] {
  const rows: ResultRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw bad(`${path}:${i + 1}`, `not JSON (${(e as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw bad(`${path}:${i + 1}`, 'not a JSON object');
    rows.push(rowFromRecord(rec as Record<string, unknown>, `${path}:${i + 1}`));
  });
  return rows;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Numbers of a call-stats object that may spell its units in several ways. */
function pick(o: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (isObject(v)) {
      // { energyJ: { mean, p50, p95 } } style.
      continue;
    }
  }
  return undefined;
}

/** Reads the per-request statistics of a wattprint-report.json. */
export function requestsFromReport(report: Record<string, unknown>): RequestStats[] {
  const out: RequestStats[] = [];
  const records = Array.isArray(report.calls) ? (report.calls as unknown[]).filter(isObject) : [];
  const statsList: Array<[string, Record<string, unknown>]> = [];
  const stats = report.callStats ?? report.stats;
  if (isObject(stats)) {
    if (typeof stats.count === 'number') statsList.push([String(stats.name ?? 'all requests'), stats]);
    else for (const [name, s] of Object.entries(stats)) if (isObject(s)) statsList.push([name, s]);
  } else if (Array.isArray(stats)) {
    for (const s of stats) if (isObject(s)) statsList.push([String(s.name ?? 'all requests'), s]);
  }
  const energyOf = (c: Record<string, unknown>) => pick(c, 'energyJ', 'totalEnergyJ', 'energy_j');
  for (const [name, s] of statsList) {
    const energy = isObject(s.energyJ) ? s.energyJ : s;
    const emissions = isObject(s.emissionsKg) ? s.emissionsKg : s;
    const energies = records
      .filter((c) => statsList.length === 1 || (c.name ?? 'all requests') === name)
      .map(energyOf)
      .filter((e): e is number => e !== undefined);
    const entry: Record<string, unknown> = { name, count: pick(s, 'count', 'calls') ?? energies.length, energiesJ: energies };
    const set = (k: string, v: number | undefined) => v !== undefined && (entry[k] = v);
    set('meanEnergyJ', pick(energy, 'mean', 'meanEnergyJ', 'energyJMean'));
    set('p50EnergyJ', pick(energy, 'p50', 'median', 'p50EnergyJ'));
    set('p95EnergyJ', pick(energy, 'p95', 'p95EnergyJ'));
    set('totalEnergyJ', pick(energy, 'total', 'sum', 'totalEnergyJ'));
    set('meanEmissionsKg', pick(emissions, 'mean', 'meanEmissionsKg', 'emissionsKgMean'));
    out.push(entry as unknown as RequestStats);
  }
  if (out.length === 0 && records.length > 0) {
    const energies = records.map(energyOf).filter((e): e is number => e !== undefined);
    out.push({ name: 'all requests', count: records.length, energiesJ: energies });
  }
  return out;
}

function fromReport(text: string, path: string): { rows: ResultRow[]; requests: RequestStats[] } {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (e) {
    throw bad(path, `not JSON (${(e as Error).message})`);
  }
  if (!isObject(report)) throw bad(path, 'not a JSON object');
  const rows: ResultRow[] = [];
  const where = `${path} (run totals)`;
  for (const key of ['run', 'totals', 'result', 'emissions']) {
    const v = report[key];
    if (!isObject(v)) continue;
    if ('cpu_energy' in v) rows.push(rowFromRecord(v, where));
    else if ('cpuEnergyKWh' in v) rows.push(rowFromCamel(v, where));
    if (rows.length > 0) break;
  }
  return { rows, requests: requestsFromReport(report) };
}

/** A row from an EmissionsData-shaped (camelCase) object. */
export function rowFromCamel(v: Record<string, unknown>, where: string): ResultRow {
  const snake: Record<string, unknown> = {
    timestamp: v.timestamp,
    project_name: v.projectName,
    run_id: v.runId,
    experiment_name: v.experimentName,
    task_name: v.taskName,
    duration: v.durationS,
    emissions: v.emissionsKg,
    cpu_energy: v.cpuEnergyKWh,
    gpu_energy: v.gpuEnergyKWh,
    ram_energy: v.ramEnergyKWh,
    energy_consumed: v.energyConsumedKWh,
    country_name: v.countryName,
    region: v.region,
    tracking_mode: v.trackingMode,
    cpu_model: v.cpuModel,
    gpu_model: v.gpuModel,
    pue: v.pue,
    intensity_g_per_kwh: v.intensityGPerKWh,
    intensity_source: v.intensitySource,
    boundary: v.boundary,
  };
  return rowFromRecord(snake, where);
}

/** Reads any of the three output formats; the extension decides, else the content. */
export function loadReportInput(path: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, EXIT.USAGE);
  }
  const ext = extname(path).toLowerCase();
  const trimmed = text.trimStart();
  const format: ReportInput['format'] =
    ext === '.csv'
      ? 'csv'
      : ext === '.jsonl' || ext === '.ndjson'
        ? 'jsonl'
        : ext === '.json'
          ? 'report'
          : trimmed.startsWith('{')
            ? trimmed.split('\n').filter((l) => l.trim() !== '').every((l) => l.trim().startsWith('{') && l.trim().endsWith('}'))
              ? 'jsonl'
              : 'report'
            : 'csv';
  if (format === 'csv') return { path, format, rows: fromCsv(text, path), requests: [] };
  if (format === 'jsonl') return { path, format, rows: fromJsonl(text, path), requests: [] };
  const { rows, requests } = fromReport(text, path);
  return { path, format, rows, requests };
}
