import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { WattprintError } from '../errors.js';
import { CONFIG_FILE_NAME, envName, type EmissionsTrackerOptions } from '../options.js';

type OptionName = keyof EmissionsTrackerOptions;

interface FlagSpec {
  /** Commander flag string, e.g. `--pue <factor>`. */
  readonly flags: string;
  readonly option: OptionName;
  readonly description: string;
  readonly parse?: 'number';
  readonly choices?: readonly string[];
}

/**
 * The library options the CLI mirrors, in kebab-case. Values are only checked for shape here
 * (a number is a number); ranges and names are validated by the library so the rules live in one
 * place, and its messages are rewritten to name the flag.
 */
const FLAGS: readonly FlagSpec[] = [
  { flags: '--project-name <name>', option: 'projectName', description: "project name written to every row (default 'wattprint')" },
  { flags: '--experiment-id <id>', option: 'experimentId', description: "experiment id (default 'default')" },
  { flags: '--experiment-name <name>', option: 'experimentName', description: "experiment name (default 'base')" },
  { flags: '--measure-power-secs <s>', option: 'measurePowerSecs', parse: 'number', description: 'seconds between power samples (default 15)' },
  { flags: '--output-dir <dir>', option: 'outputDir', description: "folder of the output files; must exist (default '.')" },
  { flags: '--output-file <file>', option: 'outputFile', description: "CSV file name (default 'emissions.csv')" },
  { flags: '--on-csv-write <mode>', option: 'onCsvWrite', choices: ['append', 'update'], description: "'append' a row per flush, or 'update' one row per run (default 'append')" },
  { flags: '--no-save-to-file', option: 'saveToFile', description: 'do not write the CSV file' },
  { flags: '--save-to-json', option: 'saveToJson', description: 'also write emissions.jsonl and wattprint-report.json' },
  { flags: '--gpu-ids <ids>', option: 'gpuIds', description: 'GPUs to track, comma-separated indexes or UUIDs (default: CUDA_VISIBLE_DEVICES, else all)' },
  { flags: '--country-iso-code <iso3>', option: 'countryIsoCode', description: "ISO 3166-1 alpha-3 country of the electricity, e.g. FRA (default: cloud region, else the time zone's country)" },
  { flags: '--region <region>', option: 'region', description: "US state, Canadian province or Nordic zone, e.g. 'california', 'SE3'" },
  { flags: '--cloud-provider <provider>', option: 'cloudProvider', description: "'gcp' (per-region data), 'aws' or 'azure'" },
  { flags: '--cloud-region <region>', option: 'cloudRegion', description: "cloud region id, e.g. 'europe-west1'" },
  { flags: '--geolocate', option: 'geolocate', description: 'without a location, allow one IP geolocation request (never by default)' },
  { flags: '--no-cloud-metadata', option: 'cloudMetadata', description: "without a location, do not ask a cloud VM's metadata service for its region" },
  { flags: '--offline-intensity-data <source>', option: 'offlineIntensityData', choices: ['codecarbon', 'ember'], description: "offline country averages: 'codecarbon' (default) or 'ember' (needs @tgwf/co2)" },
  { flags: '--pue <factor>', option: 'pue', parse: 'number', description: 'power usage effectiveness of the facility, >= 1 (default 1)' },
  { flags: '--wue <l-per-kwh>', option: 'wue', parse: 'number', description: 'water usage effectiveness in L/kWh (default 0)' },
  { flags: '--force-cpu-power-w <watts>', option: 'forceCpuPowerW', parse: 'number', description: 'use this CPU power (W) as the TDP of the load model' },
  { flags: '--force-ram-power-w <watts>', option: 'forceRamPowerW', parse: 'number', description: 'constant RAM power (W)' },
  { flags: '--force-carbon-intensity <g-per-kwh>', option: 'forceCarbonIntensityGPerKWh', parse: 'number', description: 'grid intensity in gCO2eq/kWh, overriding every source' },
  { flags: '--no-native', option: 'native', description: 'do not load the native addon (no NVML/RAPL: estimates only)' },
  { flags: '--nvml-library-path <path>', option: 'nvmlLibraryPath', description: "NVML library to load (default 'libnvidia-ml.so.1')" },
  { flags: '--sysfs-root <dir>', option: 'sysfsRoot', description: "root of sysfs, for containers (default '/sys')" },
  { flags: '--procfs-root <dir>', option: 'procfsRoot', description: "root of procfs (default '/proc')" },
  { flags: '--dev-root <dir>', option: 'devRoot', description: "root of devfs (default '/dev')" },
];

/** `--tracking-mode`, offered by `run` and `detect` only (`monitor` always tracks the machine). */
export const TRACKING_MODE_FLAG: FlagSpec = {
  flags: '--tracking-mode <mode>',
  option: 'trackingMode',
  choices: ['machine', 'process'],
  description: "'process' (the command's process tree) or 'machine'",
};

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

const attributeOf = new WeakMap<Command, Map<string, FlagSpec>>();

/** Adds the tracker flags (all, or those named in `only`) to a command. */
export function addTrackerFlags(cmd: Command, opts: { trackingMode?: boolean; except?: readonly OptionName[] } = {}): Command {
  const specs = FLAGS.filter((f) => !opts.except?.includes(f.option));
  if (opts.trackingMode) specs.push(TRACKING_MODE_FLAG);
  const map = attributeOf.get(cmd) ?? new Map<string, FlagSpec>();
  for (const spec of specs) {
    const o = new Option(spec.flags, spec.description);
    if (spec.parse === 'number') o.argParser(parseNumber);
    if (spec.choices) o.choices(spec.choices);
    cmd.addOption(o);
    map.set(o.attributeName(), spec);
  }
  attributeOf.set(cmd, map);
  return cmd;
}

/**
 * The tracker options the user gave as flags, and only those: env variables and config files are
 * merged by the library, which must see them as lower-precedence layers rather than as defaults
 * the CLI has filled in.
 */
export function trackerOptionsFromFlags(cmd: Command): EmissionsTrackerOptions {
  const out: Record<string, unknown> = {};
  const map = attributeOf.get(cmd);
  if (!map) return out;
  const values = cmd.opts();
  for (const [attr, spec] of map) {
    if (cmd.getOptionValueSource(attr) !== 'cli') continue;
    out[spec.option] = values[attr];
  }
  return out as EmissionsTrackerOptions;
}

/** The kebab-case flag of a library option, e.g. `forceCpuPowerW` → `--force-cpu-power-w`. */
export function flagOf(option: string): string | undefined {
  const spec = [...FLAGS, TRACKING_MODE_FLAG].find((f) => f.option === option);
  return spec?.flags.split(' ')[0]!.replace(/^--no-/, '--');
}

/** The config file (local first, as the library's precedence) that sets `option`, if any. */
function configFileWith(option: string): string | undefined {
  for (const dir of [process.cwd(), homedir()]) {
    const path = join(dir, CONFIG_FILE_NAME);
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object' && option in parsed) return path;
    } catch {
      // Missing or unparsable: the library reports the latter itself.
    }
  }
  return undefined;
}

/**
 * Rewrites a library option error so that it names the flag the user typed. Errors about values
 * from the environment or a config file keep the library's wording, which names their origin.
 */
export function describeOptionError(error: unknown, given: EmissionsTrackerOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!(error instanceof WattprintError) || error.option === undefined) return undefined;
  const detail = error.message.replace(/^Invalid option `[^`]+`:\s*/, '');
  if (!(error.option in given)) {
    // Values from the environment or a config file: say where to look, since no flag was typed.
    if (/ in the environment| in \//.test(error.message)) return undefined;
    const variable = envName(error.option);
    if (env[variable] !== undefined) return `${error.message} (from the environment variable ${variable})`;
    const file = configFileWith(error.option);
    return file ? `${error.message} (from ${file})` : undefined;
  }
  const flag = flagOf(error.option);
  if (!flag) return undefined;
  return `invalid value for ${flag}: ${detail}`;
}
