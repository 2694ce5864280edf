import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseCsv } from '../../reporters/index.js';
import type { Boundary } from '../../types.js';
import { CliError, EXIT } from '../exit.js';
import { J_PER_KWH } from '../../units.js';
import { requestsFromHistograms, timelineEntry, type CallHistogram, type SampleRow } from './timeline.js';

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
  /** The call name, or 'all requests'. */
  readonly name: string;
  readonly count: number;
  readonly meanEnergyJ?: number;
  readonly p50EnergyJ?: number;
  readonly p95EnergyJ?: number;
  readonly meanEmissionsKg?: number;
  readonly totalEnergyJ?: number;
  readonly energyPerOutputTokenJ?: number;
  readonly requestsPerKWh?: number;
  /** The distribution of energy per request, when the report carries one (J). */
  readonly histogram?: ReadonlyArray<{ readonly fromJ: number; readonly toJ: number; readonly count: number }>;
}

export interface ReportInput {
  /** The file, or the files joined by ', '. */
  readonly path: string;
  /** 'csv', 'jsonl', 'report' or 'timeline' (a JSONL of samples only), or several joined by ' + '. */
  readonly format: string;
  readonly rows: readonly ResultRow[];
  readonly requests: readonly RequestStats[];
  /** Timeline samples (`--timeline`), in file order. */
  readonly samples: readonly SampleRow[];
}

const bad = (where: string, what: string) =>
  new CliError(`${where}: ${what}; expected emissions.csv, emissions.jsonl or wattprint-report.json written by wattprint or CodeCarbon`, EXIT.USAGE);

function num(rec: Record<string, unknown>, key: string, where: string): number {
  const v = rec[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw bad(where, `column '${key}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}`);
  return n;
}

function str(rec: Record<string, unknown>, key: string, csv: boolean): string | undefined {
  const v = rec[key];
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  // Undo the CSV's formula guard (a ' before a leading = + - @); JSON text carries none.
  return csv && /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

/** A row from a record keyed by CodeCarbon's snake_case column names (CSV and JSONL alike). */
export function rowFromRecord(rec: Record<string, unknown>, where: string, csv = false): ResultRow {
  const cpu = num(rec, 'cpu_energy', where);
  const gpu = num(rec, 'gpu_energy', where);
  const ram = num(rec, 'ram_energy', where);
  const row: Record<string, unknown> = {
    timestamp: str(rec, 'timestamp', csv) ?? '',
    projectName: str(rec, 'project_name', csv) ?? '(no project)',
    runId: str(rec, 'run_id', csv) ?? '(no run id)',
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
    const v = str(rec, key, csv);
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
    return [rowFromRecord(rec, `${path}:${i + 2}`, true)];
  });
}

function fromJsonl(text: string, path: string): { rows: ResultRow[]; samples: SampleRow[]; histograms: CallHistogram[] } {
  const rows: ResultRow[] = [];
  const samples: SampleRow[] = [];
  const histograms: CallHistogram[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw bad(`${path}:${i + 1}`, `not JSON (${(e as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw bad(`${path}:${i + 1}`, 'not a JSON object');
    const entry = timelineEntry(rec as Record<string, unknown>, `${path}:${i + 1}`);
    if (!entry) rows.push(rowFromRecord(rec as Record<string, unknown>, `${path}:${i + 1}`));
    else if ('sample' in entry) samples.push(entry.sample);
    else histograms.push(...entry.calls);
  });
  return { rows, samples, histograms };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Histogram buckets in any of the shapes `{fromJ,toJ,count}`, `{lowJ,highJ,count}`, `{lowerJ,upperJ,count}`. */
function histogramOf(v: unknown): RequestStats['histogram'] {
  if (!Array.isArray(v)) return undefined;
  const bins = v.filter(isObject).flatMap((b) => {
    const from = finite(b.fromJ ?? b.lowJ ?? b.lowerJ ?? b.minJ);
    const to = finite(b.toJ ?? b.highJ ?? b.upperJ ?? b.maxJ);
    const count = finite(b.count);
    return from !== undefined && to !== undefined && count !== undefined ? [{ fromJ: from, toJ: to, count }] : [];
  });
  return bins.length > 0 ? bins : undefined;
}

function statsOf(name: string, s: Record<string, unknown>): RequestStats {
  const out: Record<string, unknown> = { name, count: finite(s.count ?? s.requests) ?? 0 };
  const keys = ['meanEnergyJ', 'p50EnergyJ', 'p95EnergyJ', 'meanEmissionsKg', 'energyPerOutputTokenJ', 'requestsPerKWh'] as const;
  for (const k of keys) if (finite(s[k]) !== undefined) out[k] = s[k];
  if (finite(s.energyJ) !== undefined) out.totalEnergyJ = s.energyJ;
  const h = histogramOf(s.energyHistogramJ ?? s.energyHistogram ?? s.histogram);
  if (h) out.histogram = h;
  return out as unknown as RequestStats;
}

/**
 * Per-request figures of a wattprint-report.json (docs/report-schema.json): all calls from
 * `results.calls` (with `results.perRequest` for what it lacks), then each name in `results.byName`.
 */
export function requestsFromReport(report: Record<string, unknown>): RequestStats[] {
  const results = isObject(report.results) ? report.results : undefined;
  if (!results) return [];
  const out: RequestStats[] = [];
  const overall = isObject(results.calls) ? results.calls : undefined;
  const perRequest = isObject(results.perRequest) ? results.perRequest : {};
  if (overall && (finite(overall.count) ?? 0) > 0) out.push(statsOf('all requests', { ...perRequest, ...overall }));
  const byName = Array.isArray(results.byName) ? results.byName.filter(isObject) : [];
  if (byName.length > 1 || (byName.length === 1 && out.length === 0))
    for (const s of byName) if ((finite(s.count) ?? 0) > 0) out.push(statsOf(String(s.name ?? '(unnamed)'), s));
  return out;
}

function fromReport(text: string, path: string): { rows: ResultRow[]; requests: RequestStats[] } {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (e) {
    throw bad(path, `not JSON (${(e as Error).message})`);
  }
  if (!isObject(report) || !isObject(report.run) || !isObject(report.results) || !isObject(report.results.run))
    throw bad(path, "not a wattprint report (no 'run' and 'results.run')");
  const run = report.run;
  const totals = report.results.run;
  const conditions = isObject(report.operationalConditions) ? report.operationalConditions : {};
  const intensity = isObject(conditions.carbonIntensity) ? conditions.carbonIntensity : {};
  const location = isObject(conditions.location) ? conditions.location : {};
  const rec: Record<string, unknown> = {
    timestamp: run.startTime ?? '',
    project_name: run.projectName,
    run_id: run.runId,
    experiment_name: run.experimentName,
    duration: run.durationS,
    emissions: totals.emissionsKg,
    cpu_energy: (finite(totals.cpuEnergyJ) ?? NaN) / J_PER_KWH,
    gpu_energy: (finite(totals.gpuEnergyJ) ?? NaN) / J_PER_KWH,
    ram_energy: (finite(totals.ramEnergyJ) ?? NaN) / J_PER_KWH,
    energy_consumed: (finite(totals.energyJ) ?? NaN) / J_PER_KWH,
    tracking_mode: run.trackingMode,
    country_name: location.countryName,
    region: location.region,
    pue: conditions.pue,
    intensity_g_per_kwh: intensity.gPerKWh,
    intensity_source: intensity.source,
  };
  return { rows: [rowFromRecord(rec, `${path} (run totals)`)], requests: requestsFromReport(report) };
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
  if (format === 'csv') return { path, format, rows: fromCsv(text, path), requests: [], samples: [] };
  if (format === 'jsonl') {
    const { rows, samples, histograms } = fromJsonl(text, path);
    return { path, format: rows.length === 0 && samples.length > 0 ? 'timeline' : format, rows, requests: requestsFromHistograms(histograms), samples };
  }
  const { rows, requests } = fromReport(text, path);
  return { path, format, rows, requests, samples: [] };
}

/** Reads several files (e.g. emissions.csv and its timeline) as one input. */
export function loadReportInputs(paths: readonly string[]): ReportInput {
  const inputs = paths.map(loadReportInput);
  if (inputs.length === 1) return inputs[0]!;
  return {
    path: inputs.map((i) => i.path).join(', '),
    format: inputs.map((i) => i.format).join(' + '),
    rows: inputs.flatMap((i) => i.rows),
    requests: inputs.flatMap((i) => i.requests),
    samples: inputs.flatMap((i) => i.samples),
  };
}
