import { monotonicMs } from './clock-guard.js';
import { isKnownCountry } from './intensity/offline.js';

/**
 * The one table of tracker options. Validation and defaults (src/options.ts), the CLI flags and
 * their help (src/cli/tracker-flags.ts), the `WATTPRINT_*` variable names and the options table of
 * docs/api.md (test/docs/options-table.test.ts checks it, `npm run docs` rewrites it) all read it.
 */

export type Kind = 'string' | 'number' | 'boolean' | 'object' | 'function' | 'array';

/**
 * Where a value may come from besides the constructor:
 * - `'any'`: `WATTPRINT_*` variables, CLI flags and both config files;
 * - `'trusted'`: variables, flags and the home config file, never the project-local `.wattprint.json`
 *   (a cloned repository must not choose which library wattprint loads or which files it reads);
 * - `'constructor'`: code only (functions, objects with methods).
 */
export type OptionFrom = 'any' | 'trusted' | 'constructor';

/** The reason a value is invalid, or undefined when it is fine. */
type Check = (value: never) => string | undefined;

export interface CliFlagDef {
  /** Commander flag string, e.g. `--pue <factor>`; `--no-x` for a boolean that defaults to true. */
  readonly flags: string;
  /** Help text when it differs from the option's doc. */
  readonly help?: string;
  readonly parse?: 'number';
  /** The help shows no default (the CLI command has its own). */
  readonly noDefault?: true;
}

export interface OptionDef {
  /** The JS type of the value; a list where several are accepted (the first is what text coerces to). */
  readonly kind: Kind | readonly Kind[];
  readonly from: OptionFrom;
  /** The default, or a function computing it at resolve time. Absent: no default (undefined). */
  readonly default?: unknown;
  /** How docs and help show the default, when it is not `default` printed as JSON. */
  readonly defaultText?: string;
  /** Allowed values of a string option (also the CLI's choices). */
  readonly choices?: readonly string[];
  readonly check?: Check;
  /** One sentence for docs/api.md (markdown) and the CLI help (backticks removed). */
  readonly doc: string;
  readonly cli?: CliFlagDef;
}

const finite = (v: number) => Number.isFinite(v);
const positive: Check = (v: number) => (finite(v) && v > 0 ? undefined : `expected a finite number > 0, got ${v}`);
const nonNegative: Check = (v: number) => (finite(v) && v >= 0 ? undefined : `expected a finite number ≥ 0, got ${v}`);
const nonEmpty: Check = (v: string) => (v.trim() === '' ? 'expected a non-empty string' : undefined);
const positiveInt: Check = (v: number) => (Number.isInteger(v) && v > 0 ? undefined : `expected a positive integer, got ${v}`);
const isFn = (v: unknown) => typeof v === 'function';

/** A GPU index (integer ≥ 0), a UUID or UUID prefix with or without `GPU-`, or a MIG UUID. */
function gpuIdProblem(id: unknown): string | undefined {
  if (typeof id === 'number') return Number.isInteger(id) && id >= 0 ? undefined : `${id} is not a GPU index (an integer ≥ 0)`;
  if (typeof id !== 'string') return `${JSON.stringify(id)} is neither an index nor a UUID`;
  const s = id.trim();
  if (/^\d+$/.test(s) || /^(GPU-)?[0-9a-f][0-9a-f-]*$/i.test(s) || /^MIG-[\w/-]+$/i.test(s)) return undefined;
  if (/^-\d+$/.test(s)) return `'${s}' is not a GPU index (an integer ≥ 0)`;
  return `'${s}' is neither a GPU index nor a UUID ('GPU-…', 'MIG-…')`;
}

const CHECK_OUTPUT_FILE: Check = (v: string) => {
  if (v.trim() === '') return 'expected a non-empty file name';
  if (/[\\/]/.test(v) || v === '.' || v === '..' || v.includes('\0'))
    return `expected a file name without folders (use outputDir for the folder), got '${v}'`;
  return undefined;
};

/** Every option of `EmissionsTracker`, in the order docs and help list them. */
export const OPTION_TABLE = {
  projectName: {
    kind: 'string', from: 'any', default: 'wattprint', check: nonEmpty,
    doc: 'name written to every row',
    cli: { flags: '--project-name <name>' },
  },
  experimentId: {
    kind: 'string', from: 'any', default: '5b0fa12a-3dd7-45bb-9766-cc326314d9f1', check: nonEmpty,
    doc: "experiment id written to every row (CodeCarbon's default id)",
    cli: { flags: '--experiment-id <id>', help: 'experiment id written to every row' },
  },
  experimentName: {
    kind: 'string', from: 'any', default: 'base', check: nonEmpty,
    doc: 'experiment name; also names the task file `emissions_<experimentName>_<runId>.csv`',
    cli: { flags: '--experiment-name <name>', help: 'experiment name written to every row' },
  },
  measurePowerSecs: {
    kind: 'number', from: 'any', default: 15,
    check: (v: number) => positive(v as never) ?? (v >= 0.01 && v <= 86400 ? undefined : `expected seconds between 0.01 and 86400, got ${v}`),
    doc: 'seconds between samples while no call is in flight (0.01–86400); RAPL may shorten it so no counter wraps twice',
    cli: { flags: '--measure-power-secs <s>', parse: 'number', help: 'seconds between power samples' },
  },
  outputDir: {
    kind: 'string', from: 'any', default: '.', check: nonEmpty,
    doc: 'folder of the output files, created (with its parents) when missing; must be writable (from a project-local config file: inside the working folder)',
    cli: { flags: '--output-dir <dir>', help: 'folder of the output files, created if missing' },
  },
  outputFile: {
    kind: 'string', from: 'any', default: 'emissions.csv', check: CHECK_OUTPUT_FILE,
    doc: 'CSV file name inside `outputDir` (no folders, no `..`)',
    cli: { flags: '--output-file <file>', help: 'CSV file name inside the output folder' },
  },
  onCsvWrite: {
    kind: 'string', from: 'any', default: 'append', choices: ['append', 'update'],
    doc: "`'append'`: a row per flush/stop; `'update'`: one row per run, refreshed",
    cli: { flags: '--on-csv-write <mode>' },
  },
  saveToFile: {
    kind: 'boolean', from: 'any', default: true,
    doc: 'write the CSV file',
    cli: { flags: '--no-save-to-file', help: 'do not write the CSV file' },
  },
  saveToJson: {
    kind: 'boolean', from: 'any', default: false,
    doc: 'write `emissions.jsonl` (a line per flush/stop, with the boundary) and `wattprint-report.json` at stop',
    cli: { flags: '--save-to-json' },
  },
  reporters: {
    kind: 'array', from: 'constructor', default: () => [], defaultText: '`[]`',
    check: (v: unknown[]) => {
      const bad = v.findIndex((r) => !r || typeof r !== 'object' || !isFn((r as { report?: unknown }).report));
      return bad < 0 ? undefined : `reporters[${bad}] must be an object with a report(data, context) method (see the Reporter interface)`;
    },
    doc: 'extra reporters, called after the built-in ones',
  },
  onReport: {
    kind: 'function', from: 'constructor',
    doc: 'shorthand for `reporters: [callbackReporter(onReport)]`',
  },
  trackingMode: {
    kind: 'string', from: 'any', default: 'machine', choices: ['machine', 'process'],
    doc: "`'machine'` accounts the whole host; `'process'` the process tree rooted at `pid`",
    cli: { flags: '--tracking-mode <mode>', help: "'process' (the command's process tree, the default of run) or 'machine'", noDefault: true },
  },
  pid: {
    kind: 'number', from: 'any', default: () => process.pid, defaultText: '`process.pid`',
    check: (v: number) => (Number.isInteger(v) && v > 0 ? undefined : `expected a positive integer process id, got ${v}`),
    doc: 'root pid of the tracked process tree in process mode',
  },
  gpuIds: {
    kind: 'array', from: 'any', defaultText: '`CUDA_VISIBLE_DEVICES`, else all',
    check: (v: unknown[]) => {
      for (const [i, id] of v.entries()) {
        const problem = gpuIdProblem(id);
        if (problem) return `gpuIds[${i}]: ${problem}`;
      }
      return undefined;
    },
    doc: 'GPUs to track: indexes (≥ 0) or UUIDs (`GPU-…`, `MIG-…`), an array or a comma-separated string',
    cli: { flags: '--gpu-ids <ids>', help: 'GPUs to track, comma-separated indexes or UUIDs' },
  },
  countryIsoCode: {
    kind: 'string', from: 'any', defaultText: "the cloud VM's region, else the system time zone's country, else the world average (with a warning)",
    check: (v: string) => {
      if (!/^[A-Za-z]{3}$/.test(v)) return `expected an ISO 3166-1 alpha-3 code such as 'FRA' or 'USA', got '${v}'`;
      if (!isKnownCountry(v.toUpperCase())) return `unknown ISO 3166-1 alpha-3 code '${v}'; use a code such as 'FRA', 'DEU', 'USA', 'IND'`;
      return undefined;
    },
    doc: 'ISO 3166-1 alpha-3 country of the electricity, e.g. `FRA`',
    cli: { flags: '--country-iso-code <iso3>' },
  },
  region: {
    kind: 'string', from: 'any', check: nonEmpty,
    doc: "US state (`california`), Canadian province (`quebec`) or Nordic bidding zone of the country (`SE3`)",
    cli: { flags: '--region <region>' },
  },
  cloudProvider: {
    kind: 'string', from: 'any', choices: ['gcp', 'aws', 'azure'],
    doc: "`'gcp'` (CodeCarbon's per-region data), `'aws'` or `'azure'` (region → grid country or zone, see [intensity.md](intensity.md#cloud-regions))",
    cli: { flags: '--cloud-provider <provider>' },
  },
  cloudRegion: {
    kind: 'string', from: 'any', check: nonEmpty,
    doc: 'cloud region id, e.g. `europe-west1`',
    cli: { flags: '--cloud-region <region>' },
  },
  pue: {
    kind: 'number', from: 'any', default: 1,
    check: (v: number) => (finite(v) && v >= 1 && v <= 5 ? undefined : `expected a PUE between 1 and 5 (1 = no facility overhead), got ${v}`),
    doc: 'power usage effectiveness of the facility (1–5); multiplies every energy delta',
    cli: { flags: '--pue <factor>', parse: 'number' },
  },
  wue: {
    kind: 'number', from: 'any', default: 0, check: nonNegative,
    doc: 'water usage effectiveness in L/kWh (≥ 0)',
    cli: { flags: '--wue <l-per-kwh>', parse: 'number' },
  },
  forceCpuPowerW: {
    kind: 'number', from: 'any', check: positive,
    doc: 'CPU power (W) used as the TDP of the load model instead of the table; disables RAPL',
    cli: { flags: '--force-cpu-power-w <watts>', parse: 'number' },
  },
  forceRamPowerW: {
    kind: 'number', from: 'any', check: nonNegative,
    doc: 'constant RAM power (W); disables the DRAM counter and the DIMM model',
    cli: { flags: '--force-ram-power-w <watts>', parse: 'number' },
  },
  forceCarbonIntensityGPerKWh: {
    kind: 'number', from: 'any', check: nonNegative,
    doc: 'grid intensity (gCO2eq/kWh) overriding every intensity source',
    cli: { flags: '--force-carbon-intensity <g-per-kwh>', parse: 'number' },
  },
  native: {
    // A binding object is also accepted, from the constructor only (see checkValue in options.ts).
    kind: ['boolean', 'string'], from: 'any', default: true,
    check: (v: boolean | string) => (typeof v === 'string' && v.trim() === '' ? 'expected true, false or the path of a .node file' : undefined),
    doc: 'load the native addon (NVML, RAPL); `false` runs on estimates only; a string is the `.node` path (not from a project-local config file); an object (constructor only) is the binding itself, e.g. `FakeNvmlBinding` in tests',
    cli: { flags: '--no-native', help: 'do not load the native addon (no NVML/RAPL: estimates only)' },
  },
  nvmlLibraryPath: {
    kind: 'string', from: 'trusted', default: 'libnvidia-ml.so.1', check: nonEmpty,
    doc: 'the NVML library to `dlopen`',
    cli: { flags: '--nvml-library-path <path>' },
  },
  sysfsRoot: {
    kind: 'string', from: 'trusted', default: '/sys', check: nonEmpty,
    doc: 'root of sysfs, for containers that mount the host’s elsewhere',
    cli: { flags: '--sysfs-root <dir>' },
  },
  procfsRoot: {
    kind: 'string', from: 'trusted', default: '/proc', check: nonEmpty,
    doc: 'root of procfs',
    cli: { flags: '--procfs-root <dir>' },
  },
  devRoot: {
    kind: 'string', from: 'trusted', default: '/dev', check: nonEmpty,
    doc: 'root of devfs',
    cli: { flags: '--dev-root <dir>' },
  },
  sources: {
    kind: 'object', from: 'constructor',
    check: (v: Record<string, unknown>) => {
      for (const [component, list] of Object.entries(v)) {
        if (!['cpu', 'gpu', 'ram'].includes(component)) return `unknown component '${component}'; expected keys cpu, gpu, ram`;
        if (!Array.isArray(list)) return `sources.${component} must be an array of PowerSource`;
        const bad = list.findIndex(
          (s: { id?: unknown; probe?: unknown; read?: unknown; start?: unknown } | null) =>
            !s || !isFn(s.probe) || !isFn(s.read) || !isFn(s.start) || typeof s.id !== 'string',
        );
        if (bad >= 0) return `sources.${component}[${bad}] is not a PowerSource (needs id, probe(), start(), read())`;
      }
      return undefined;
    },
    doc: "`{ cpu?, gpu?, ram? }`: replace a component's fallback chain with your `PowerSource`s (first that probes ok wins; `[]` means not accounted); extend one with `defaultSources()`",
  },
  intensityProvider: {
    kind: ['object', 'array'], from: 'constructor', defaultText: 'the offline data shipped with wattprint',
    check: (v: object) => {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) return 'expected an IntensityProvider or a non-empty array of them';
      const bad = list.findIndex((p: { id?: unknown; getIntensity?: unknown } | null) => !p || typeof p !== 'object' || !isFn(p.getIntensity) || typeof p.id !== 'string');
      if (bad < 0) return undefined;
      return `${Array.isArray(v) ? `intensityProvider[${bad}]` : 'the value'} is not an IntensityProvider (needs id and getIntensity(location, at))`;
    },
    doc: 'grid intensity provider, or an ordered chain of them; the offline data is always the last link ([intensity.md](intensity.md))',
  },
  offlineIntensityData: {
    kind: 'string', from: 'any', default: 'codecarbon', choices: ['codecarbon', 'ember'],
    doc: "offline country averages: CodeCarbon's data, or Ember's via the optional package `@tgwf/co2`",
    cli: { flags: '--offline-intensity-data <source>' },
  },
  geolocate: {
    kind: 'boolean', from: 'any', default: false,
    doc: 'without a configured location, allow one IP geolocation request (geojs.io) to find the country',
    cli: { flags: '--geolocate' },
  },
  cloudMetadata: {
    kind: 'boolean', from: 'any', default: true,
    doc: "without a configured location, on a cloud VM (told by DMI strings), ask the link-local metadata service for the region",
    cli: { flags: '--no-cloud-metadata', help: "without a configured location, do not ask a cloud VM's metadata service for its region" },
  },
  callSampleIntervalMs: {
    kind: 'number', from: 'any', default: 250,
    check: (v: number) => (finite(v) && v >= 1 && v <= 60000 ? undefined : `expected milliseconds between 1 and 60000, got ${v}`),
    doc: 'sampling interval (ms) while wrapped calls are in flight; see [inference.md](inference.md)',
  },
  attribution: {
    kind: 'string', from: 'any', default: 'work', choices: ['work', 'time'],
    doc: "how wrapped calls share each interval's energy: `'work'` (CPU by each call's CPU work, GPU by streamed tokens, idle floor and RAM by time in flight) or `'time'` (all by time in flight); see [inference.md](inference.md#attribution-rules)",
  },
  baseline: {
    kind: 'object', from: 'any',
    check: (v: { durationMs?: unknown }) =>
      typeof v.durationMs === 'number' && v.durationMs > 0 && v.durationMs <= 600000
        ? undefined
        : `expected { durationMs } with 0 < durationMs ≤ 600000, got ${JSON.stringify(v)}`,
    doc: '`{ durationMs }`: measure idle power after start, so call records carry dynamic energy',
  },
  amortize: {
    kind: 'object', from: 'any',
    check: (v: { trainingEmissionsKg?: unknown; expectedRequests?: unknown }) => {
      const kg = v.trainingEmissionsKg;
      if (typeof kg !== 'number' || !(kg >= 0) || !finite(kg)) return 'expected amortize.trainingEmissionsKg to be a finite number ≥ 0';
      const n = v.expectedRequests;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return 'expected amortize.expectedRequests to be a positive integer';
      return undefined;
    },
    doc: '`{ trainingEmissionsKg, expectedRequests }`: amortise training emissions over the expected requests',
  },
  task: { kind: 'string', from: 'any', check: nonEmpty, doc: "declared task (e.g. `'chat completion'`), for the report" },
  modality: { kind: 'string', from: 'any', check: nonEmpty, doc: "declared modality (e.g. `'text'`), for the report" },
  batchSize: { kind: 'number', from: 'any', check: positiveInt, doc: 'declared batch size, for the report' },
  handleSignals: {
    kind: 'boolean', from: 'any', default: true,
    doc: 'write a final row at exit, and on SIGINT/SIGTERM/SIGHUP when no other listener handles the signal (then re-raise it); never changes `process.exitCode` (see [reliability.md](reliability.md))',
  },
  clock: {
    kind: 'function', from: 'constructor', default: () => monotonicMs, defaultText: 'ms since the process started',
    doc: 'monotonic clock in ms, for tests',
  },
} as const satisfies Record<string, OptionDef>;

export type OptionName = keyof typeof OPTION_TABLE;

export const OPTION_NAMES = Object.keys(OPTION_TABLE) as OptionName[];

/** The definition of an option, widened for generic code. */
export function optionDef(name: OptionName): OptionDef {
  return OPTION_TABLE[name];
}

/** The kinds an option accepts, the first being the one text (a variable) is parsed into. */
export const kindsOf = (def: OptionDef): readonly Kind[] => (typeof def.kind === 'string' ? [def.kind] : def.kind);

const snakeUpper = (s: string) =>
  s
    .replace('KWh', 'Kwh')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();

/** The environment variable name of an option: `measurePowerSecs` → `WATTPRINT_MEASURE_POWER_SECS`. */
export const envName = (option: string) => `WATTPRINT_${snakeUpper(option)}`;

/** The default of an option as docs and help show it, or undefined when it has none. */
export function defaultText(name: OptionName): string | undefined {
  const def = optionDef(name);
  if (def.defaultText !== undefined) return def.defaultText;
  if (def.default === undefined) return undefined;
  return typeof def.default === 'string' ? `\`'${def.default}'\`` : `${JSON.stringify(def.default)}`;
}

/** The value a missing option takes. */
export function defaultValue(name: OptionName): unknown {
  const d = optionDef(name).default;
  return typeof d === 'function' ? (d as () => unknown)() : d;
}

/** Markdown to plain text for the CLI help: backticks dropped, links reduced to their text. */
export const plainText = (md: string) => md.replace(/`/g, '').replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');

/** The options table of docs/api.md, generated from {@link OPTION_TABLE}. */
export function renderOptionsMarkdown(): string {
  const rows = ['| option | default | environment variable | CLI flag | meaning |', '|---|---|---|---|---|'];
  for (const name of OPTION_NAMES) {
    const def = optionDef(name);
    const env = def.from === 'constructor' ? 'constructor only' : `\`${envName(name)}\`${def.from === 'trusted' ? ' (not from `./.wattprint.json`)' : ''}`;
    const flag = def.cli ? `\`${def.cli.flags.split(' ')[0]}\`` : '';
    const choices = 'choices' in def && def.choices ? ` (${def.choices.map((c) => `\`'${c}'\``).join(', ')})` : '';
    rows.push(`| \`${name}\` | ${defaultText(name) ?? ''} | ${env} | ${flag} | ${def.doc.replace(/\|/g, '\\|')}${choices} |`);
  }
  return rows.join('\n');
}
