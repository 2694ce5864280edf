import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { Boundary } from '../../types.js';
import { CliError, EXIT } from '../exit.js';
import { J_PER_KWH } from '../../units.js';
import { CsvRecordStream, detach, interner, LineStream, printable, readChunks } from './stream.js';
import { RowStore, type ParsedRow } from './rows.js';
import { requestsFromHistograms, timelineEntry, type CallHistogram, type SampleRow } from './timeline.js';

/** One result row, from emissions.csv (CodeCarbon columns), emissions.jsonl or a report's totals. */
export type ResultRow = ParsedRow;

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

/** A record's value by CodeCarbon column name. */
type Get = (key: string) => unknown;
/** Where a record is, for error messages (built only on error). */
type Where = () => string;

/**
 * A number column. CodeCarbon leaves cells empty where it has nothing to say (a missing GPU, an
 * old version's column): an empty or absent cell reads as `fallback`; text that is no number is an error.
 */
function num(get: Get, key: string, where: Where, fallback = 0): number {
  const v = get(key);
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw bad(where(), `column '${key}' is not a number (${printable(JSON.stringify(v)).slice(0, 80)})`);
  return n;
}

/** Text as printed: the CSV's formula guard undone (a ' before = + - @ TAB CR), control characters removed. */
function cleanText(raw: string, csv: boolean): string {
  return printable(csv && /^'[=+\-@\t\r]/.test(raw) ? raw.slice(1) : raw);
}

function str(get: Get, key: string, keep: (s: string) => string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  const s = keep(String(v));
  return s === '' ? undefined : s;
}

function parseRow(get: Get, where: Where, csv: boolean, keep: (s: string) => string): ParsedRow {
  const text = (key: string) => str(get, key, keep);
  const cpu = num(get, 'cpu_energy', where);
  const gpu = num(get, 'gpu_energy', where);
  const ram = num(get, 'ram_energy', where);
  const pue = num(get, 'pue', where, Number.NaN);
  const intensity = num(get, 'intensity_g_per_kwh', where, Number.NaN);
  const boundary = get('boundary');
  return {
    timestamp: detach(str(get, 'timestamp', (x) => cleanText(x, csv)) ?? ''),
    projectName: text('project_name') ?? '(no project)',
    runId: text('run_id') ?? '(no run id)',
    experimentName: text('experiment_name'),
    taskName: text('task_name'),
    durationS: num(get, 'duration', where),
    emissionsKg: num(get, 'emissions', where),
    cpuEnergyKWh: cpu,
    gpuEnergyKWh: gpu,
    ramEnergyKWh: ram,
    energyKWh: num(get, 'energy_consumed', where, cpu + gpu + ram),
    countryName: text('country_name'),
    region: text('region'),
    trackingMode: text('tracking_mode'),
    cpuModel: text('cpu_model'),
    gpuModel: text('gpu_model'),
    pue: Number.isNaN(pue) ? undefined : pue,
    intensityGPerKWh: Number.isNaN(intensity) ? undefined : intensity,
    intensitySource: text('intensity_source'),
    boundary: boundary && typeof boundary === 'object' ? (boundary as Boundary) : undefined,
  };
}

/** A row from a record keyed by CodeCarbon's snake_case column names (CSV and JSONL alike). */
export function rowFromRecord(rec: Record<string, unknown>, where: string, csv = false): ResultRow {
  const row = parseRow((k) => rec[k], () => where, csv, (x) => cleanText(x, csv));
  // Drop the absent optional fields, as a plain record would not have them.
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as unknown as ResultRow;
}

function fromCsv(path: string): ResultRow[] {
  const rows: ResultRow[] = [];
  const store = new RowStore();
  const keep = interner((x) => cleanText(x, true));
  let index: Map<string, number> | undefined;
  let recordNo = 0;
  const parser = new CsvRecordStream((cells) => {
    recordNo++;
    if (index === undefined) {
      const header = cells.map((h) => h.trim());
      if (!header.includes('duration') || !header.includes('emissions'))
        throw bad(path, `no '${header.includes('duration') ? 'emissions' : 'duration'}' column in the header`);
      if (!header.includes('energy_consumed'))
        for (const c of ['cpu_energy', 'gpu_energy', 'ram_energy']) if (!header.includes(c)) throw bad(path, `no '${c}' column in the header`);
      index = new Map(header.map((h, k) => [h, k]));
      return;
    }
    const at = index;
    const get = (k: string) => {
      const j = at.get(k);
      return j === undefined ? undefined : cells[j];
    };
    rows.push(store.add(parseRow(get, () => `${path}: record ${recordNo}`, true, keep)));
  });
  readChunks(path, (text) => parser.push(text));
  parser.end();
  if (index === undefined) throw bad(path, 'the file is empty');
  return rows;
}

function fromJsonl(path: string): { rows: ResultRow[]; samples: SampleRow[]; histograms: CallHistogram[] } {
  const rows: ResultRow[] = [];
  const samples: SampleRow[] = [];
  const histograms: CallHistogram[] = [];
  const store = new RowStore();
  const keep = interner((x) => cleanText(x, false));
  const lines = new LineStream((line, lineNo) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw bad(`${path}:${lineNo}`, `not JSON (${(e as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw bad(`${path}:${lineNo}`, 'not a JSON object');
    const r = rec as Record<string, unknown>;
    const entry = timelineEntry(r, `${path}:${lineNo}`);
    if (!entry) rows.push(store.add(parseRow((k) => r[k], () => `${path}:${lineNo}`, false, keep)));
    else if ('sample' in entry) samples.push(entry.sample);
    else histograms.push(...entry.calls);
  });
  readChunks(path, (text) => lines.push(text));
  lines.end();
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
  const out: Record<string, unknown> = { name: printable(name), count: finite(s.count ?? s.requests) ?? 0 };
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

/** The first bytes of a file, to recognise its format when the extension does not say. */
function head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function formatOf(path: string): ReportInput['format'] {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'report';
  const trimmed = head(path).trimStart();
  if (!trimmed.startsWith('{')) return 'csv';
  const lines = trimmed.split('\n').filter((l) => l.trim() !== '');
  // The last line of the head may be cut: judge the whole lines.
  const whole = lines.length > 1 ? lines.slice(0, -1) : lines;
  return whole.every((l) => l.trim().startsWith('{') && l.trim().endsWith('}')) && lines.length > 1 ? 'jsonl' : 'report';
}

/**
 * Reads any of the three output formats; the extension decides, else the content. CSV and JSON
 * Lines are streamed (memory follows the rows, not the file), and every text printed later is
 * stripped of control characters.
 */
export function loadReportInput(path: string): ReportInput {
  try {
    const format = formatOf(path);
    if (format === 'csv') return { path, format, rows: fromCsv(path), requests: [], samples: [] };
    if (format === 'jsonl') {
      const { rows, samples, histograms } = fromJsonl(path);
      return { path, format: rows.length === 0 && samples.length > 0 ? 'timeline' : format, rows, requests: requestsFromHistograms(histograms), samples };
    }
    const { rows, requests } = fromReport(readFileSync(path, 'utf8'), path);
    return { path, format, rows, requests, samples: [] };
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, EXIT.USAGE);
  }
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
