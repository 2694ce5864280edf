import { accessSync, constants, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { WattprintError, invalidOption, type OptionOrigin } from './errors.js';
import { isKnownGcpRegion } from './intensity/offline.js';
import { OPTION_NAMES, OPTION_TABLE, defaultValue, envName, kindsOf, optionDef, type Kind, type OptionDef, type OptionName } from './option-table.js';
import type {
  EmissionsData,
  IntensityProvider,
  PowerSource,
  ReportContext,
  Reporter,
  TrackingMode,
} from './types.js';
import { editDistance } from './edit-distance.js';
import type { NvmlBinding } from './native/binding.js';

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
  /** Default `'5b0fa12a-3dd7-45bb-9766-cc326314d9f1'`, CodeCarbon's default experiment id. */
  experimentId?: string;
  /** Default `'base'`; also names the task file `emissions_<experimentName>_<runId>.csv`. */
  experimentName?: string;
  /** Seconds between samples while no call is in flight. Default 15. */
  measurePowerSecs?: number;
  /** Folder for output files, created (with its parents) when missing; must be writable. Default `'.'`. */
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
  /** ISO 3166-1 alpha-3 country of the electricity, e.g. `'FRA'`. Default: the cloud VM's region, else the system time zone's country, else the world average (with a warning). */
  countryIsoCode?: string;
  /** US state (`'california'`), Canadian province (`'quebec'`) or Nordic bidding zone (`'SE3'`). */
  region?: string;
  /** `'gcp'` (CodeCarbon's per-region data), `'aws'` or `'azure'` (region → grid country or zone, see docs/intensity.md). */
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
  /**
   * Load the native addon (NVML, RAPL). `false` runs on estimates only. A string is an explicit
   * `.node` path. An object (constructor only) is the binding itself: the addon you loaded, or
   * `FakeNvmlBinding` from `wattprint/testing`. Default true.
   */
  native?: boolean | string | NvmlBinding;
  /** Path of the NVML library to dlopen. Default `'libnvidia-ml.so.1'`. */
  nvmlLibraryPath?: string;
  /** Roots of sysfs, procfs and devfs, for containers that mount the host's elsewhere. Defaults `/sys`, `/proc`, `/dev`. */
  sysfsRoot?: string;
  procfsRoot?: string;
  devRoot?: string;
  /** Replace the fallback chain of a component with your own sources (first that probes ok wins). */
  sources?: { cpu?: PowerSource[]; gpu?: PowerSource[]; ram?: PowerSource[] };
  /**
   * Grid intensity provider, or an ordered chain of them (`[electricityMapsProvider(…), ukCarbonIntensityProvider()]`):
   * the first that has a value answers; the offline data is always the last link. Default: the offline data only.
   */
  intensityProvider?: IntensityProvider | IntensityProvider[];
  /** Offline country averages: `'codecarbon'` (default, CodeCarbon's data) or `'ember'` (Ember via the optional `@tgwf/co2`). */
  offlineIntensityData?: 'codecarbon' | 'ember';
  /** Without a configured location, allow one IP geolocation request (geojs.io) to find the country. Default false. */
  geolocate?: boolean;
  /** Without a configured location, on a cloud VM (told by DMI strings), ask the link-local metadata service for the region. Default true. */
  cloudMetadata?: boolean;
  /** Sampling interval (ms) while wrapped calls are in flight. Default 250. */
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
  /** Monotonic clock in ms, for tests. Default: ms since the process started, on the clock `performance.now()` reads. */
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
  intensityProvider?: IntensityProvider | IntensityProvider[];
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

/** Every option name, in the table's order. */
export { OPTION_NAMES, envName } from './option-table.js';

// The interface above and the table list the same options (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SAME_OPTIONS: Same<keyof EmissionsTrackerOptions, OptionName> = true;
void SAME_OPTIONS;

/** CodeCarbon spellings that differ from ours by more than case. */
const ALIASES: Record<string, OptionName> = {
  force_cpu_power: 'forceCpuPowerW',
  force_ram_power: 'forceRamPowerW',
  force_carbon_intensity_g_co2e_kwh: 'forceCarbonIntensityGPerKWh',
  forceCpuPower: 'forceCpuPowerW',
  forceRamPower: 'forceRamPowerW',
  forceCarbonIntensity: 'forceCarbonIntensityGPerKWh',
  output_handlers: 'reporters',
};

const camel = (s: string) => s.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());

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

const where = (origin: OptionOrigin): string =>
  origin.kind === 'constructor' ? '' : origin.kind === 'env' ? ' in the environment' : ` in ${origin.path}`;

function unknownOption(name: string, origin: OptionOrigin): WattprintError {
  const hint = suggestOption(name.startsWith('WATTPRINT_') ? name.slice(10).toLowerCase() : name);
  return new WattprintError(
    'UNKNOWN_OPTION',
    `Unknown option \`${name}\`${where(origin)}${hint ? `; did you mean \`${hint}\`?` : ''} (options are camelCase, see docs/api.md)`,
    { option: name, origin, reason: hint ? `did you mean \`${hint}\`?` : 'not an option (see docs/api.md)' },
  );
}

/** Parses the text of a variable (or a string in a config file) into the option's kind. */
function coerce(def: OptionDef, raw: unknown): { value: unknown } | { problem: string } {
  const kinds = kindsOf(def);
  if (typeof raw !== 'string' || kinds[0] === 'string') return { value: raw };
  const parsed = parseAs(kinds[0]!, raw);
  // Text that is not the first kind stays text where text is accepted (`native: '/opt/w.node'`).
  return 'problem' in parsed && kinds.includes('string') ? { value: raw } : parsed;
}

function parseAs(kind: Kind, raw: string): { value: unknown } | { problem: string } {
  const s = raw.trim();
  switch (kind) {
    case 'number': {
      const n = Number(s);
      return s === '' || Number.isNaN(n) ? { problem: `expected a number, got '${raw}'` } : { value: n };
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(s)) return { value: true };
      if (/^(false|0|no|off)$/i.test(s)) return { value: false };
      return { problem: `expected true or false, got '${raw}'` };
    case 'array':
      return { value: s === '' ? [] : s.split(',').map((x) => x.trim()).filter(Boolean) };
    case 'object':
      try {
        return { value: JSON.parse(s) };
      } catch {
        return { problem: `expected a JSON object, got '${raw}'` };
      }
    default:
      return { value: raw };
  }
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** Validates one value against the table; returns it coerced, or throws naming option and origin. */
function checkValue(name: OptionName, raw: unknown, origin: OptionOrigin): unknown {
  const def = optionDef(name);
  // `native` also takes the binding object itself: code, so from the constructor only.
  if (name === 'native' && origin.kind === 'constructor' && typeof raw === 'object' && raw !== null) {
    if (typeof (raw as Partial<NvmlBinding>).nvmlInit !== 'function')
      throw invalidOption(name, 'expected true, false, the path of a .node file, or a binding object with nvmlInit() (e.g. FakeNvmlBinding)', origin);
    return raw;
  }
  const c = coerce(def, raw);
  if ('problem' in c) throw invalidOption(name, c.problem, origin);
  const v = c.value;
  const kinds = kindsOf(def);
  const is = (k: Kind) => (k === 'array' ? Array.isArray(v) : k === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v) : typeof v === k);
  if (!kinds.some(is))
    throw invalidOption(name, `expected ${kinds.map((k) => (k === 'array' ? 'an array' : `a ${k}`)).join(' or ')}, got ${typeOf(v)}`, origin);
  if (def.choices && !def.choices.includes(v as string))
    throw invalidOption(name, `expected one of ${def.choices.map((a) => `'${a}'`).join(', ')}, got '${String(v)}'`, origin);
  const problem = def.check?.(v as never);
  if (problem) throw invalidOption(name, problem, origin);
  return v;
}
export const CONFIG_FILE_NAME = '.wattprint.json';

export interface ResolveContext {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

type OriginName = ResolvedOptions['origins'][string];

/** Reads a JSON config file; a missing file is `undefined`, a malformed one an error that names it. */
function readConfigFile(path: string): Record<string, unknown> | undefined {
  let text: string;
  // Most processes have no config file: asked without an exception (each costs a captured stack).
  if (statSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
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

/**
 * The real path of `p`: its deepest existing ancestor with symbolic links resolved, then the rest.
 * A folder that does not exist yet under a link still lands where the link points.
 */
function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realOrSelf(parent), basename(p));
  }
}

/**
 * What a project-local `.wattprint.json` may not set: it comes with the folder (a cloned
 * repository), so it must not choose a library to load, the roots wattprint reads hardware
 * from, or a file outside the working folder to write.
 */
function untrustedLocal(name: OptionName, value: unknown, cwd: string): string | undefined {
  const fix = `set it in the constructor, with the ${envName(name)} variable, a CLI flag or ~/${CONFIG_FILE_NAME}`;
  if (optionDef(name).from === 'trusted') return `a project-local config file may not set library or root paths; ${fix}`;
  if (name === 'native' && typeof value === 'string') return `a project-local config file may not choose the addon to load; ${fix}`;
  if (name === 'outputDir') {
    const dir = realOrSelf(resolve(cwd, value as string));
    const rel = relative(realOrSelf(cwd), dir);
    if (rel.startsWith('..') || isAbsolute(rel))
      return `a project-local config file may only write inside the working folder, got '${String(value)}'; ${fix}`;
  }
  return undefined;
}

/**
 * Merges constructor options, `WATTPRINT_*` variables and config files, validates every value and
 * applies defaults from the options table. Throws {@link WattprintError} (`INVALID_OPTION`,
 * `UNKNOWN_OPTION`, `UNTRUSTED_OPTION`, `OUTPUT_DIR`, `CONFIG_FILE`) with `option`, `origin` and
 * `reason` set.
 */
export function resolveOptions(options: EmissionsTrackerOptions = {}, ctx: ResolveContext = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new WattprintError('INVALID_OPTION', 'EmissionsTracker options must be an object, e.g. { projectName: "demo" }');
  const env = ctx.env ?? process.env;
  const cwd = ctx.cwd ?? process.cwd();
  const home = ctx.home ?? homedir();

  const merged: Record<string, unknown> = {};
  const origins: ResolvedOptions['origins'] = {};
  const sourceOf: Record<string, OptionOrigin> = {};
  const layer = (values: Record<string, unknown>, originName: OriginName, originOf: (name: string) => OptionOrigin) => {
    for (const [key, raw] of Object.entries(values)) {
      if (raw === undefined) continue;
      const origin = originOf(key);
      if (!Object.hasOwn(OPTION_TABLE, key)) throw unknownOption(origin.kind === 'env' ? origin.variable : key, origin);
      const name = key as OptionName;
      if (origin.kind !== 'constructor' && optionDef(name).from === 'constructor')
        throw invalidOption(name, 'cannot be set outside code; pass it to the constructor', origin);
      const value = checkValue(name, raw, origin);
      if (originName === 'local-config') {
        const problem = untrustedLocal(name, value, cwd);
        if (problem) throw invalidOption(name, problem, origin, 'UNTRUSTED_OPTION');
      }
      merged[name] = value;
      origins[name] = originName;
      sourceOf[name] = origin;
    }
  };

  const homePath = join(home, CONFIG_FILE_NAME);
  const localPath = join(cwd, CONFIG_FILE_NAME);
  const homeCfg = readConfigFile(homePath);
  if (homeCfg) layer(homeCfg, 'home-config', () => ({ kind: 'config-file', path: homePath, scope: 'home' }));
  if (localPath !== homePath) {
    const localCfg = readConfigFile(localPath);
    if (localCfg) layer(localCfg, 'local-config', () => ({ kind: 'config-file', path: localPath, scope: 'local' }));
  }
  const fromEnv: Record<string, unknown> = {};
  const variableOf: Record<string, string> = {};
  // Keys first: a value is read (process.env makes a string of each) only for WATTPRINT_* names.
  for (const key of Object.keys(env)) {
    if (!key.startsWith('WATTPRINT_')) continue;
    const value = env[key];
    if (value === undefined) continue;
    const name = OPTION_NAMES.find((o) => envName(o) === key);
    if (name) {
      fromEnv[name] = value;
      variableOf[name] = key;
    }
    // Other WATTPRINT_* variables may belong to the host's own tooling; only a near-miss of an
    // option name is an error (a typo would otherwise be silently ignored).
    else if (suggestOption(key.slice('WATTPRINT_'.length).toLowerCase())) throw unknownOption(key, { kind: 'env', variable: key });
  }
  layer(fromEnv, 'env', (name) => ({ kind: 'env', variable: variableOf[name]! }));
  layer(options as Record<string, unknown>, 'constructor', () => ({ kind: 'constructor' }));

  const resolved: Record<string, unknown> = { origins };
  for (const name of OPTION_NAMES) {
    if (merged[name] !== undefined) resolved[name] = merged[name];
    else {
      const d = defaultValue(name);
      if (d !== undefined) {
        resolved[name] = d;
        origins[name] = 'default';
      }
    }
  }
  const out = resolved as unknown as ResolvedOptions;
  out.outputDir = resolve(cwd, out.outputDir);
  if (out.countryIsoCode !== undefined) out.countryIsoCode = out.countryIsoCode.toUpperCase();
  if (merged.gpuIds !== undefined) out.gpuIds = (merged.gpuIds as Array<string | number>).map((g) => String(g).trim());
  const originOf = (name: OptionName): OptionOrigin => sourceOf[name] ?? { kind: 'constructor' };
  if (out.cloudProvider === 'gcp') {
    if (!out.cloudRegion)
      throw invalidOption('cloudRegion', "is required with cloudProvider 'gcp', e.g. 'europe-west1'", originOf('cloudProvider'));
    if (!isKnownGcpRegion(out.cloudRegion))
      throw invalidOption('cloudRegion', `unknown GCP region '${out.cloudRegion}'; use a region id such as 'europe-west1' or 'us-central1'`, originOf('cloudRegion'));
  } else if (out.cloudRegion && !out.cloudProvider) {
    throw invalidOption('cloudRegion', "needs cloudProvider ('gcp', 'aws' or 'azure')", originOf('cloudRegion'));
  }
  if (out.saveToFile || out.saveToJson) checkOutputDir(out.outputDir, originOf('outputDir'));
  return out;
}

/** The output folder must be a writable folder; a missing one is created (with its parents), as users expect. */
function checkOutputDir(dir: string, origin: OptionOrigin): void {
  const fail = (reason: string) => invalidOption('outputDir', reason, origin, 'OUTPUT_DIR');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    try {
      mkdirSync(dir, { recursive: true });
      isDir = true;
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw fail(`folder '${dir}' does not exist and cannot be created (${why}); set outputDir to a writable folder`);
    }
  }
  if (!isDir) throw fail(`'${dir}' is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw fail(`folder '${dir}' is not writable; fix its permissions or choose another folder`);
  }
}
