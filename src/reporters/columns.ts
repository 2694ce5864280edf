import type { EmissionsData, ReportContext } from '../types.js';
import { WattprintError } from '../errors.js';

type Kind = 'text' | 'number' | 'optional-number';

interface ColumnDef {
  readonly name: string;
  readonly kind: Kind;
  /** The EmissionsData field it comes from, named in data errors. */
  readonly field: keyof EmissionsData;
}

const t = (name: string, field: keyof EmissionsData): ColumnDef => ({ name, kind: 'text', field });
const n = (name: string, field: keyof EmissionsData): ColumnDef => ({ name, kind: 'number', field });
const o = (name: string, field: keyof EmissionsData): ColumnDef => ({ name, kind: 'optional-number', field });

// CodeCarbon 3.x `EmissionsData` field order (tests/test_data/emissions_valid_headers.csv).
const DEFS: readonly ColumnDef[] = [
  t('timestamp', 'timestamp'),
  t('project_name', 'projectName'),
  t('run_id', 'runId'),
  t('experiment_id', 'experimentId'),
  n('duration', 'durationS'),
  n('emissions', 'emissionsKg'),
  n('emissions_rate', 'emissionsRateKgPerS'),
  n('cpu_power', 'cpuPowerW'),
  n('gpu_power', 'gpuPowerW'),
  n('ram_power', 'ramPowerW'),
  n('cpu_energy', 'cpuEnergyKWh'),
  n('gpu_energy', 'gpuEnergyKWh'),
  n('ram_energy', 'ramEnergyKWh'),
  n('energy_consumed', 'energyConsumedKWh'),
  n('water_consumed', 'waterConsumedL'),
  t('country_name', 'countryName'),
  t('country_iso_code', 'countryIsoCode'),
  t('region', 'region'),
  t('cloud_provider', 'cloudProvider'),
  t('cloud_region', 'cloudRegion'),
  t('os', 'os'),
  t('python_version', 'nodeVersion'),
  t('codecarbon_version', 'trackerVersion'),
  n('cpu_count', 'cpuCount'),
  t('cpu_model', 'cpuModel'),
  n('gpu_count', 'gpuCount'),
  t('gpu_model', 'gpuModel'),
  o('longitude', 'longitude'),
  o('latitude', 'latitude'),
  n('ram_total_size', 'ramTotalSizeGB'),
  t('tracking_mode', 'trackingMode'),
  n('cpu_utilization_percent', 'cpuUtilizationPercent'),
  n('gpu_utilization_percent', 'gpuUtilizationPercent'),
  n('ram_utilization_percent', 'ramUtilizationPercent'),
  n('ram_used_gb', 'ramUsedGB'),
  t('on_cloud', 'onCloud'),
  n('pue', 'pue'),
  n('wue', 'wue'),
];

/**
 * CodeCarbon 3.x's 38 `emissions.csv` columns, in its order. Units: `duration` s, `emissions` kg CO2e,
 * `emissions_rate` kg/s, `*_power` W (time-weighted mean), `*_energy` and `energy_consumed` kWh after PUE,
 * `water_consumed` L, `ram_total_size` and `ram_used_gb` GiB, `*_utilization_percent` %.
 */
export const CSV_COLUMNS: readonly string[] = Object.freeze(DEFS.map((d) => d.name));

/**
 * Columns of the per-run task file `emissions_<experimentName>_<runId>.csv`: `task_name` first, as
 * CodeCarbon's `TaskEmissionsData`, then all 38 run columns.
 */
export const TASK_CSV_COLUMNS: readonly string[] = Object.freeze(['task_name', ...CSV_COLUMNS]);

/** First characters that make a spreadsheet evaluate a cell (OWASP CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Prefixes `'` to text a spreadsheet would read as a formula. Only applied to text columns: a number
 * such as `-1.5` is written as is.
 */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function finiteNumber(d: EmissionsData, def: ColumnDef): number | undefined {
  const v = d[def.field] as unknown;
  if (def.kind === 'optional-number' && (v === undefined || v === null)) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new WattprintError(
      'REPORTER_DATA',
      `Cannot write column \`${def.name}\`: EmissionsData.${String(def.field)} is ${describe(v)}, expected a finite number. ` +
        'This is a bug in the code that built the EmissionsData (a division by a zero duration, a missing reading).',
    );
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return v === null ? 'null' : typeof v;
}

function text(d: EmissionsData, def: ColumnDef): string {
  const v = d[def.field] as unknown;
  return v === undefined || v === null ? '' : String(v);
}

/**
 * The 38 CSV cells of a result, in {@link CSV_COLUMNS} order: numbers at full precision
 * (`String(n)`), an absent longitude/latitude as an empty cell, text cells that start with
 * `=`, `+`, `-`, `@`, tab or CR prefixed with `'`. Throws `WattprintError('REPORTER_DATA')` on a
 * non-finite number rather than writing `NaN`.
 */
export function toCsvRow(d: EmissionsData): string[] {
  return DEFS.map((def) => {
    if (def.kind === 'text') return neutralizeFormula(text(d, def));
    const v = finiteNumber(d, def);
    return v === undefined ? '' : String(v);
  });
}

/** {@link toCsvRow} for the task file: the task name, then the 38 run cells. */
export function toTaskCsvRow(d: EmissionsData): string[] {
  return [neutralizeFormula(d.taskName ?? ''), ...toCsvRow(d)];
}

/** One line of `emissions.jsonl`: see {@link toJsonRecord}. */
export interface JsonRecord {
  readonly [column: string]: unknown;
}

/**
 * The JSON form of a result: every CSV column under the same snake_case name (numbers as JSON
 * numbers, an absent longitude/latitude as `null`, text without the CSV's `'` formula guard),
 * then `experiment_name`, `task_name` (tasks only), `phase`, `intensity_g_per_kwh`,
 * `intensity_source`, `intensity_provider`, `intensity_zone`, `intensity_freshness` (`live`, `cached`,
 * `offline`), `intensity_year` (`null` where unknown), `ram_in_use_gb` (total − available, where
 * `ram_used_gb` is psutil's `used`) and `boundary`.
 */
export function toJsonRecord(d: EmissionsData, ctx?: ReportContext): JsonRecord {
  const rec: Record<string, unknown> = {};
  for (const def of DEFS) {
    if (def.kind === 'text') rec[def.name] = text(d, def);
    else rec[def.name] = finiteNumber(d, def) ?? null;
  }
  rec.experiment_name = d.experimentName ?? '';
  if (d.taskName !== undefined) rec.task_name = d.taskName;
  if (ctx !== undefined) rec.phase = ctx.phase;
  rec.intensity_g_per_kwh = finiteNumber(d, { name: 'intensity_g_per_kwh', kind: 'number', field: 'intensityGPerKWh' });
  rec.intensity_source = d.intensitySource ?? '';
  rec.intensity_provider = d.intensityProvider ?? '';
  rec.intensity_zone = d.intensityZone ?? '';
  rec.intensity_freshness = d.intensityFreshness ?? '';
  rec.intensity_year = d.intensityYear ?? null;
  if (d.ramInUseGB !== undefined) rec.ram_in_use_gb = finiteNumber(d, { name: 'ram_in_use_gb', kind: 'number', field: 'ramInUseGB' });
  rec.boundary = d.boundary;
  // Estimated remote LLM requests (wattprint/llm), kept apart from the measured columns above.
  const r = d.remoteEstimate;
  if (r !== undefined)
    rec.remote_llm_estimate = { requests: r.requests, unestimated: r.unestimated, output_tokens: r.outputTokens, energy_kwh: r.energyKWh, emissions_kg: r.gwpKg, adpe_kgsbeq: r.adpeKgSb, pe_mj: r.peMJ, water_l: r.waterL };
  return rec;
}
