import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { WattprintError, invalidOption } from './errors.js';
import { isKnownCountry, isKnownGcpRegion } from './intensity/index.js';
import type {
  EmissionsData,
  IntensityProvider,
  PowerSource,
  ReportContext,
  Reporter,
  TrackingMode,
} from './types.js';
import { editDistance } from './edit-distance.js';

/**
 * Options of {@link EmissionsTracker}. They mirror CodeCarbon's in camelCase, with units in the
 * names. Each can also come from a `WATTPRINT_<SNAKE_CASE_NAME>` environment variable or a JSON
 * config file (`./.wattprint.json`, then `~/.wattprint.json`); precedence is
 * constructor > environment > local file > home file. Every option is validated when the tracker
 * is constructed.
 */
export interface EmissionsTrackerOptions {
  /** Name written to every output row. Default `'wattprint'`. */
  projectName?: string;
  /** Default `'default'`. */
  experimentId?: string;
  /** Default `'base'`; also names the task file `emissions_<experimentName>_<runId>.csv`. */
  experimentName?: string;
  /** Seconds between samples while no call is in flight. Default 15. */
  measurePowerSecs?: number;
  /** Folder for output files; must exist and be writable. Default `'.'`. */
  outputDir?: string;
  /** CSV file name. Default `'emissions.csv'`. */
  outputFile?: string;
  /** `'append'` adds a row per flush/stop; `'update'` keeps one row per run. Default `'append'`. */
  onCsvWrite?: 'append' | 'update';
  /** Write the CSV file. Default true. */
  saveToFile?: boolean;
  /** Write `emissions.jsonl` (one object per flush/stop, with the boundary) and `wattprint-report.json` at stop. Default false. */
  saveToJson?: boolean;
  /** Extra reporters, called after the built-in ones. */
  reporters?: Reporter[];
  /** Shorthand for `reporters: [callbackReporter(onReport)]`. */
  onReport?: (data: EmissionsData, context: ReportContext) => void | Promise<void>;
  /** `'machine'` (default) accounts the whole host; `'process'` the process tree rooted at `pid`. */
  trackingMode?: TrackingMode;
  /** Root pid of the tracked process tree in process mode. Default `process.pid`. */
  pid?: number;
  /** GPUs to track, by index or UUID (`GPU-…`, `MIG-…`); a comma-separated string is accepted. Default: `CUDA_VISIBLE_DEVICES`, else all. */
  gpuIds?: Array<string | number> | string;
  /** ISO 3166-1 alpha-3 country of the electricity, e.g. `'FRA'`. Default: world average with a warning. */
  countryIsoCode?: string;
  /** US state (`'california'`), Canadian province (`'quebec'`) or Nordic bidding zone (`'SE3'`). */
  region?: string;
  /** `'gcp'` has offline per-region data; `'aws'` and `'azure'` fall back to the country. */
  cloudProvider?: string;
  cloudRegion?: string;
  /** Power usage effectiveness of the facility, ≥ 1; multiplies every energy delta. Default 1. */
  pue?: number;
  /** Water usage effectiveness in L/kWh, ≥ 0. Default 0. */
  wue?: number;
  /** Use this CPU power (W) as the TDP of the load model instead of the table; disables RAPL. */
  forceCpuPowerW?: number;
  /** Constant RAM power (W); disables the DRAM counter and the DIMM model. */
  forceRamPowerW?: number;
  /** Grid intensity (gCO2eq/kWh) overriding every intensity source. */
  forceCarbonIntensityGPerKWh?: number;
  /** Load the native addon (NVML, RAPL). `false` runs on estimates only. A string is an explicit `.node` path. Default true. */
  native?: boolean | string;
  /** Path of the NVML library to dlopen. Default `'libnvidia-ml.so.1'`. */
  nvmlLibraryPath?: string;
  /** Roots of sysfs, procfs and devfs, for containers that mount the host's elsewhere. Defaults `/sys`, `/proc`, `/dev`. */
  sysfsRoot?: string;
  procfsRoot?: string;
  devRoot?: string;
  /** Replace the fallback chain of a component with your own sources (first that probes ok wins). */
  sources?: { cpu?: PowerSource[]; gpu?: PowerSource[]; ram?: PowerSource[] };
  /** Grid intensity provider. Default: the offline data shipped with wattprint. */
  intensityProvider?: IntensityProvider;
  /** Sampling interval (ms) while wrapped calls are in flight. Default 100. */
  callSampleIntervalMs?: number;
  /**
   * How wrapped calls share each interval's energy. `'work'` (default): CPU energy above the idle
   * floor by each call's CPU work, GPU by streamed tokens (else time in flight), RAM and the idle
   * floor by time in flight. `'time'`: everything by time in flight. See docs/inference.md.
   */
  attribution?: 'work' | 'time';
  /** Measure idle power for `durationMs` after start, so call records carry dynamic energy. */
  baseline?: { durationMs: number };
  /** Amortise training emissions over the expected number of requests. */
  amortize?: { trainingEmissionsKg: number; expectedRequests: number };
  /** Declared task (e.g. 'chat completion') and modality ('text'), for the report. */
  task?: string;
  modality?: string;
  /** Declared batch size, for the report. */
  batchSize?: number;
  /** Write a final row on SIGINT/SIGTERM/SIGHUP and at process exit. Default true. */
  handleSignals?: boolean;
  /** Monotonic clock in ms, for tests. Default `performance.now`. */
  clock?: () => number;
}

/** Options after defaults, environment and config files. */
export interface ResolvedOptions
  extends Required<
    Omit<
      EmissionsTrackerOptions,
      | 'countryIsoCode'
      | 'region'
      | 'cloudProvider'
      | 'cloudRegion'
      | 'forceCpuPowerW'
      | 'forceRamPowerW'
      | 'forceCarbonIntensityGPerKWh'
      | 'onReport'
      | 'sources'
      | 'intensityProvider'
      | 'baseline'
      | 'amortize'
      | 'task'
      | 'modality'
      | 'batchSize'
      | 'gpuIds'
    >
  > {
  countryIsoCode?: string;
  region?: string;
  cloudProvider?: string;
  cloudRegion?: string;
  forceCpuPowerW?: number;
  forceRamPowerW?: number;
  forceCarbonIntensityGPerKWh?: number;
  onReport?: EmissionsTrackerOptions['onReport'];
  sources?: EmissionsTrackerOptions['sources'];
  intensityProvider?: IntensityProvider;
  baseline?: { durationMs: number };
  amortize?: { trainingEmissionsKg: number; expectedRequests: number };
  task?: string;
  modality?: string;
  batchSize?: number;
  /** Undefined means "from CUDA_VISIBLE_DEVICES, else all". */
  gpuIds?: string[];
  /** Where each option's value came from, for diagnostics. */
  origins: Record<string, 'constructor' | 'env' | 'local-config' | 'home-config' | 'default'>;
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'function' | 'array';

interface Spec {
  kind: Kind;
  /** Whether the option may come from env/config files (plain data only). */
  config: boolean;
  check?: (value: never, name: string) => void;
}

const positive = (v: number, n: string) => {
  if (!(v > 0) || !Number.isFinite(v)) throw invalidOption(n, `expected a finite number > 0, got ${v}`);
};
const nonNegative = (v: number, n: string) => {
  if (!(v >= 0) || !Number.isFinite(v)) throw invalidOption(n, `expected a finite number ≥ 0, got ${v}`);
};
const nonEmpty = (v: string, n: string) => {
  if (v.trim() === '') throw invalidOption(n, 'expected a non-empty string');
};
const oneOf =
  (...allowed: string[]) =>
  (v: string, n: string) => {
    if (!allowed.includes(v)) throw invalidOption(n, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${v}'`);
  };
const isFn = (v: unknown) => typeof v === 'function';

const SPECS: Record<keyof EmissionsTrackerOptions, Spec> = {
  projectName: { kind: 'string', config: true, check: nonEmpty },
  experimentId: { kind: 'string', config: true, check: nonEmpty },
  experimentName: { kind: 'string', config: true, check: nonEmpty },
  measurePowerSecs: {
    kind: 'number',
    config: true,
    check: (v: number, n) => {
      positive(v, n);
      if (v < 0.01 || v > 86400) throw invalidOption(n, `expected seconds between 0.01 and 86400, got ${v}`);
    },
  },
  outputDir: { kind: 'string', config: true, check: nonEmpty },
  outputFile: {
    kind: 'string',
    config: true,
    check: (v: string, n) => {
      nonEmpty(v, n);
      if (/[\\/]/.test(v)) throw invalidOption(n, `expected a file name without folders (use outputDir for the folder), got '${v}'`);
    },
  },
  onCsvWrite: { kind: 'string', config: true, check: oneOf('append', 'update') },
  saveToFile: { kind: 'boolean', config: true },
  saveToJson: { kind: 'boolean', config: true },
  reporters: {
    kind: 'array',
    config: false,
    check: (v: unknown[], n) =>
      v.forEach((r, i) => {
        const rep = r as Partial<Reporter> | null;
        if (!rep || typeof rep !== 'object' || !isFn(rep.report))
          throw invalidOption(n, `reporters[${i}] must be an object with a report(data, context) method (see the Reporter interface)`);
      }),
  },
  onReport: { kind: 'function', config: false },
  trackingMode: { kind: 'string', config: true, check: oneOf('machine', 'process') },
  pid: {
    kind: 'number',
    config: true,
    check: (v: number, n) => {
      if (!Number.isInteger(v) || v <= 0) throw invalidOption(n, `expected a positive integer process id, got ${v}`);
    },
  },
  gpuIds: { kind: 'array', config: true },
  countryIsoCode: {
    kind: 'string',
    config: true,
    check: (v: string, n) => {
      if (!/^[A-Za-z]{3}$/.test(v))
        throw invalidOption(n, `expected an ISO 3166-1 alpha-3 code such as 'FRA' or 'USA', got '${v}'`);
      if (!isKnownCountry(v.toUpperCase()))
        throw invalidOption(n, `unknown ISO 3166-1 alpha-3 code '${v}'; use a code such as 'FRA', 'DEU', 'USA', 'IND'`);
    },
  },
  region: { kind: 'string', config: true, check: nonEmpty },
  cloudProvider: { kind: 'string', config: true, check: oneOf('gcp', 'aws', 'azure') },
  cloudRegion: { kind: 'string', config: true, check: nonEmpty },
  pue: {
    kind: 'number',
    config: true,
    check: (v: number, n) => {
      if (!Number.isFinite(v) || v < 1 || v > 5) throw invalidOption(n, `expected a PUE between 1 and 5 (1 = no facility overhead), got ${v}`);
    },
  },
  wue: { kind: 'number', config: true, check: nonNegative },
  forceCpuPowerW: { kind: 'number', config: true, check: positive },
  forceRamPowerW: { kind: 'number', config: true, check: nonNegative },
  forceCarbonIntensityGPerKWh: { kind: 'number', config: true, check: nonNegative },
  native: { kind: 'boolean', config: true },
  nvmlLibraryPath: { kind: 'string', config: true, check: nonEmpty },
  sysfsRoot: { kind: 'string', config: true, check: nonEmpty },
  procfsRoot: { kind: 'string', config: true, check: nonEmpty },
  devRoot: { kind: 'string', config: true, check: nonEmpty },
  sources: {
    kind: 'object',
    config: false,
    check: (v: Record<string, unknown>, n) => {
      for (const [component, list] of Object.entries(v)) {
        if (!['cpu', 'gpu', 'ram'].includes(component))
          throw invalidOption(n, `unknown component '${component}'; expected keys cpu, gpu, ram`);
        if (!Array.isArray(list)) throw invalidOption(n, `sources.${component} must be an array of PowerSource`);
        list.forEach((s: Partial<PowerSource>, i) => {
          if (!s || !isFn(s.probe) || !isFn(s.read) || !isFn(s.start) || typeof s.id !== 'string')
            throw invalidOption(n, `sources.${component}[${i}] is not a PowerSource (needs id, probe(), start(), read())`);
        });
      }
    },
  },
  intensityProvider: {
    kind: 'object',
    config: false,
    check: (v: Partial<IntensityProvider>, n) => {
      if (!isFn(v.getIntensity)) throw invalidOption(n, 'expected an IntensityProvider with getIntensity(location, at)');
    },
  },
  attribution: { kind: 'string', config: true, check: oneOf('work', 'time') },
  callSampleIntervalMs: {
    kind: 'number',
    config: true,
    check: (v: number, n) => {
      if (!Number.isFinite(v) || v < 1 || v > 60000) throw invalidOption(n, `expected milliseconds between 1 and 60000, got ${v}`);
    },
  },
  baseline: {
    kind: 'object',
    config: true,
    check: (v: { durationMs?: unknown }, n) => {
      if (typeof v.durationMs !== 'number' || !(v.durationMs > 0) || v.durationMs > 600000)
        throw invalidOption(n, `expected { durationMs } with 0 < durationMs ≤ 600000, got ${JSON.stringify(v)}`);
    },
  },
  amortize: {
    kind: 'object',
    config: true,
    check: (v: { trainingEmissionsKg?: unknown; expectedRequests?: unknown }, n) => {
      if (typeof v.trainingEmissionsKg !== 'number' || !(v.trainingEmissionsKg >= 0) || !Number.isFinite(v.trainingEmissionsKg))
        throw invalidOption(n, 'expected amortize.trainingEmissionsKg to be a finite number ≥ 0');
      if (typeof v.expectedRequests !== 'number' || !Number.isInteger(v.expectedRequests) || v.expectedRequests <= 0)
        throw invalidOption(n, 'expected amortize.expectedRequests to be a positive integer');
    },
  },
  task: { kind: 'string', config: true, check: nonEmpty },
  modality: { kind: 'string', config: true, check: nonEmpty },
  batchSize: {
    kind: 'number',
    config: true,
    check: (v: number, n) => {
      if (!Number.isInteger(v) || v <= 0) throw invalidOption(n, `expected a positive integer, got ${v}`);
    },
  },
  handleSignals: { kind: 'boolean', config: true },
  clock: { kind: 'function', config: false },
};

/** CodeCarbon spellings that differ from ours by more than case. */
const ALIASES: Record<string, keyof EmissionsTrackerOptions> = {
  force_cpu_power: 'forceCpuPowerW',
  force_ram_power: 'forceRamPowerW',
  force_carbon_intensity_g_co2e_kwh: 'forceCarbonIntensityGPerKWh',
  forceCpuPower: 'forceCpuPowerW',
  forceRamPower: 'forceRamPowerW',
  forceCarbonIntensity: 'forceCarbonIntensityGPerKWh',
  output_handlers: 'reporters',
};

export const OPTION_NAMES = Object.keys(SPECS) as Array<keyof EmissionsTrackerOptions>;

const camel = (s: string) => s.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
const snakeUpper = (s: string) =>
  s
    .replace('KWh', 'Kwh')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();

/** The environment variable name of an option: `measurePowerSecs` → `WATTPRINT_MEASURE_POWER_SECS`. */
export const envName = (option: string) => `WATTPRINT_${snakeUpper(option)}`;

/** The option a misspelt name most likely means, if any. */
export function suggestOption(name: string): string | undefined {
  if (ALIASES[name]) return ALIASES[name];
  const c = camel(name);
  const lower = c.toLowerCase();
  const exact = OPTION_NAMES.find((o) => o.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of OPTION_NAMES) {
    const d = editDistance(lower, o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(2, Math.floor(lower.length / 4)) ? best : undefined;
}

function unknownOption(name: string, where: string): WattprintError {
  const hint = suggestOption(name.startsWith('WATTPRINT_') ? name.slice(10).toLowerCase() : name);
  return new WattprintError(
    'UNKNOWN_OPTION',
    `Unknown option \`${name}\`${where}${hint ? `; did you mean \`${hint}\`?` : ''} (options are camelCase, see docs/api.md)`,
    { option: name },
  );
}

function coerce(name: string, spec: Spec, raw: unknown, from: string): unknown {
  if (typeof raw !== 'string' || spec.kind === 'string') return raw;
  const s = raw.trim();
  switch (spec.kind) {
    case 'number': {
      const n = Number(s);
      if (s === '' || Number.isNaN(n)) throw invalidOption(name, `expected a number${from}, got '${raw}'`);
      return n;
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(s)) return true;
      if (/^(false|0|no|off)$/i.test(s)) return false;
      throw invalidOption(name, `expected true or false${from}, got '${raw}'`);
    case 'array':
      return s === '' ? [] : s.split(',').map((x) => x.trim()).filter(Boolean);
    case 'object':
      try {
        return JSON.parse(s);
      } catch {
        throw invalidOption(name, `expected a JSON object${from}, got '${raw}'`);
      }
    default:
      return raw;
  }
}

function checkValue(name: keyof EmissionsTrackerOptions, value: unknown, from: string): unknown {
  const spec = SPECS[name];
  // `native` also accepts a path to the .node file.
  if (name === 'native' && typeof value === 'string' && !/^(true|false|1|0|yes|no|on|off)$/i.test(value.trim())) {
    nonEmpty(value, name);
    return value;
  }
  const v = coerce(name, spec, value, from);
  const ok =
    spec.kind === 'array'
      ? Array.isArray(v)
      : spec.kind === 'object'
        ? typeof v === 'object' && v !== null && !Array.isArray(v)
        : typeof v === spec.kind;
  if (!ok) {
    const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
    throw invalidOption(name, `expected ${spec.kind === 'array' ? 'an array' : `a ${spec.kind}`}${from}, got ${got}`);
  }
  spec.check?.(v as never, name);
  return v;
}

/** Reads a JSON config file; a missing file is `undefined`, a malformed one an error that names it. */
function readConfigFile(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new WattprintError('CONFIG_FILE', `Cannot parse config file ${path}: ${(e as Error).message}. It must be a JSON object of options.`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WattprintError('CONFIG_FILE', `Config file ${path} must contain a JSON object of options, e.g. {"countryIsoCode": "FRA"}`);
  return parsed as Record<string, unknown>;
}

export const CONFIG_FILE_NAME = '.wattprint.json';

export interface ResolveContext {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

/**
 * Merges constructor options, `WATTPRINT_*` variables and config files, validates every value and
 * applies defaults. Throws {@link WattprintError} (`INVALID_OPTION`, `UNKNOWN_OPTION`, `OUTPUT_DIR`,
 * `CONFIG_FILE`) naming the option and the accepted values.
 */
export function resolveOptions(options: EmissionsTrackerOptions = {}, ctx: ResolveContext = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new WattprintError('INVALID_OPTION', 'EmissionsTracker options must be an object, e.g. { projectName: "demo" }');
  const env = ctx.env ?? process.env;
  const cwd = ctx.cwd ?? process.cwd();
  const home = ctx.home ?? homedir();

  const merged: Record<string, unknown> = {};
  const origins: ResolvedOptions['origins'] = {};
  const layer = (values: Record<string, unknown>, origin: ResolvedOptions['origins'][string], from: string) => {
    for (const [key, raw] of Object.entries(values)) {
      if (raw === undefined) continue;
      if (!(key in SPECS)) throw unknownOption(key, from);
      const name = key as keyof EmissionsTrackerOptions;
      if (origin !== 'constructor' && !SPECS[name].config)
        throw invalidOption(name, `cannot be set${from}; pass it to the constructor`);
      merged[name] = checkValue(name, raw, from);
      origins[name] = origin;
    }
  };

  const homePath = join(home, CONFIG_FILE_NAME);
  const localPath = join(cwd, CONFIG_FILE_NAME);
  const homeCfg = readConfigFile(homePath);
  if (homeCfg) layer(homeCfg, 'home-config', ` in ${homePath}`);
  if (localPath !== homePath) {
    const localCfg = readConfigFile(localPath);
    if (localCfg) layer(localCfg, 'local-config', ` in ${localPath}`);
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('WATTPRINT_') || value === undefined) continue;
    const name = OPTION_NAMES.find((o) => envName(o) === key);
    if (name) fromEnv[name] = value;
    // Other WATTPRINT_* variables may belong to the host's own tooling; only a near-miss of an
    // option name is an error (a typo would otherwise be silently ignored).
    else if (suggestOption(key.slice('WATTPRINT_'.length).toLowerCase())) throw unknownOption(key, ' in the environment');
  }
  layer(fromEnv, 'env', ' in the environment');
  layer(options as Record<string, unknown>, 'constructor', '');

  const pick = <K extends keyof EmissionsTrackerOptions>(k: K, def: NonNullable<EmissionsTrackerOptions[K]>) => {
    if (merged[k] === undefined) {
      origins[k] = 'default';
      return def;
    }
    return merged[k] as NonNullable<EmissionsTrackerOptions[K]>;
  };

  const resolved: ResolvedOptions = {
    projectName: pick('projectName', 'wattprint'),
    experimentId: pick('experimentId', 'default'),
    experimentName: pick('experimentName', 'base'),
    measurePowerSecs: pick('measurePowerSecs', 15),
    outputDir: resolve(cwd, pick('outputDir', '.')),
    outputFile: pick('outputFile', 'emissions.csv'),
    onCsvWrite: pick('onCsvWrite', 'append'),
    saveToFile: pick('saveToFile', true),
    saveToJson: pick('saveToJson', false),
    reporters: pick('reporters', []),
    trackingMode: pick('trackingMode', 'machine'),
    pid: pick('pid', process.pid),
    native: pick('native', true),
    nvmlLibraryPath: pick('nvmlLibraryPath', 'libnvidia-ml.so.1'),
    sysfsRoot: pick('sysfsRoot', '/sys'),
    procfsRoot: pick('procfsRoot', '/proc'),
    devRoot: pick('devRoot', '/dev'),
    pue: pick('pue', 1),
    wue: pick('wue', 0),
    callSampleIntervalMs: pick('callSampleIntervalMs', 100),
    attribution: pick('attribution', 'work'),
    handleSignals: pick('handleSignals', true),
    clock: pick('clock', () => performance.now()),
    origins,
  };
  for (const k of [
    'region',
    'cloudProvider',
    'cloudRegion',
    'forceCpuPowerW',
    'forceRamPowerW',
    'forceCarbonIntensityGPerKWh',
    'onReport',
    'sources',
    'intensityProvider',
    'baseline',
    'amortize',
    'task',
    'modality',
    'batchSize',
  ] as const) {
    if (merged[k] !== undefined) (resolved as unknown as Record<string, unknown>)[k] = merged[k];
  }
  if (typeof merged.countryIsoCode === 'string') resolved.countryIsoCode = merged.countryIsoCode.toUpperCase();
  if (merged.gpuIds !== undefined) resolved.gpuIds = (merged.gpuIds as Array<string | number>).map((g) => String(g).trim());
  if (resolved.cloudProvider === 'gcp') {
    if (!resolved.cloudRegion)
      throw invalidOption('cloudRegion', "is required with cloudProvider 'gcp', e.g. 'europe-west1'");
    if (!isKnownGcpRegion(resolved.cloudRegion))
      throw invalidOption('cloudRegion', `unknown GCP region '${resolved.cloudRegion}'; use a region id such as 'europe-west1' or 'us-central1'`);
  } else if (resolved.cloudRegion && !resolved.cloudProvider) {
    throw invalidOption('cloudRegion', "needs cloudProvider ('gcp', 'aws' or 'azure')");
  }
  if (resolved.saveToFile || resolved.saveToJson) checkOutputDir(resolved.outputDir);
  return resolved;
}

function checkOutputDir(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new WattprintError('OUTPUT_DIR', `Invalid option \`outputDir\`: folder '${dir}' does not exist; create it or set outputDir to an existing folder`, {
      option: 'outputDir',
    });
  }
  if (!isDir)
    throw new WattprintError('OUTPUT_DIR', `Invalid option \`outputDir\`: '${dir}' is not a folder`, { option: 'outputDir' });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new WattprintError('OUTPUT_DIR', `Invalid option \`outputDir\`: folder '${dir}' is not writable; fix its permissions or choose another folder`, {
      option: 'outputDir',
    });
  }
}
