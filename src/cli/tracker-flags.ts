import { InvalidArgumentError, Option, type Command } from 'commander';
import { WattprintError } from '../errors.js';
import { defaultText, kindsOf, OPTION_NAMES, optionDef, plainText, type OptionName } from '../option-table.js';
import type { EmissionsTrackerOptions } from '../options.js';

interface Flag {
  readonly option: OptionName;
  readonly flags: string;
  readonly description: string;
  readonly parse?: 'number';
  readonly choices?: readonly string[];
}

/** The help line of an option: its doc (or the flag's own help) and its default. */
function describe(option: OptionName): string {
  const def = optionDef(option);
  const text = plainText(def.cli?.help ?? def.doc);
  const dflt = defaultText(option);
  // A boolean flag already says what it changes from the default.
  return dflt === undefined || kindsOf(def)[0] === 'boolean' || def.cli?.noDefault ? text : `${text} (default ${plainText(dflt)})`;
}

/**
 * The library options the CLI mirrors, in kebab-case, from the options table. Values are only
 * checked for shape here (a number is a number, a choice is a choice); ranges and names are
 * validated by the library so the rules live in one place.
 */
const FLAGS: readonly Flag[] = OPTION_NAMES.flatMap((option): Flag[] => {
  const def = optionDef(option);
  if (!def.cli) return [];
  return [
    {
      option,
      flags: def.cli.flags,
      description: describe(option),
      ...(def.cli.parse ? { parse: def.cli.parse } : {}),
      ...(def.choices ? { choices: def.choices } : {}),
    },
  ];
});

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

const attributeOf = new WeakMap<Command, Map<string, Flag>>();

/**
 * Adds the tracker flags to a command: all but `except`; `--tracking-mode` only with
 * `trackingMode: true` (`monitor` always tracks the machine).
 */
export function addTrackerFlags(cmd: Command, opts: { trackingMode?: boolean; except?: readonly OptionName[] } = {}): Command {
  const specs = FLAGS.filter((f) => !opts.except?.includes(f.option) && (f.option !== 'trackingMode' || opts.trackingMode));
  const map = attributeOf.get(cmd) ?? new Map<string, Flag>();
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
  const spec = FLAGS.find((f) => f.option === option);
  return spec?.flags.split(' ')[0]!.replace(/^--no-/, '--');
}

/**
 * The one-line message of a library option error, from its fields: a value the user typed as a
 * flag is named by the flag; one from a variable or a config file keeps the library's message,
 * which names its origin.
 */
export function describeOptionError(error: unknown, given: EmissionsTrackerOptions): string | undefined {
  if (!(error instanceof WattprintError) || error.option === undefined) return undefined;
  if (error.origin?.kind === 'constructor' && error.option in given && error.reason !== undefined) {
    const flag = flagOf(error.option);
    if (flag) return `invalid value for ${flag}: ${error.reason}`;
  }
  return error.message;
}
