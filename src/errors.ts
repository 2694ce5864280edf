/**
 * Where the value of an option came from: the constructor (or function argument), a `WATTPRINT_*`
 * environment variable, or a `.wattprint.json` file (`scope` `'local'`: the working folder;
 * `'home'`: the user's home folder). The CLI passes its flags to the constructor, so for it
 * `'constructor'` means "a flag".
 */
export type OptionOrigin =
  | { readonly kind: 'constructor' }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'config-file'; readonly path: string; readonly scope: 'local' | 'home' };

/** " (from …)" for a message, empty for the constructor. */
export function describeOrigin(origin: OptionOrigin | undefined): string {
  if (!origin || origin.kind === 'constructor') return '';
  return origin.kind === 'env' ? ` (from the environment variable ${origin.variable})` : ` (from ${origin.path})`;
}

/**
 * Every error wattprint throws or emits. `code` is a stable string to switch on:
 *
 * - `INVALID_OPTION`: an option has the wrong type or value (`option` names it, `reason` says why,
 *   `origin` says where the value came from).
 * - `UNKNOWN_OPTION`: an option name is not recognised (the message suggests the right one).
 * - `UNTRUSTED_OPTION`: a project-local `.wattprint.json` sets an option it may not (library or
 *   root paths, output outside the working folder); see docs/api.md "Configuration files".
 * - `OUTPUT_DIR`: the output folder cannot be created, is not a folder, or is not writable.
 * - `CONFIG_FILE`: a config file exists but cannot be parsed.
 * - `STATE`: a method was called in the wrong lifecycle state (start twice, stopTask of an unknown task).
 * - `SOURCE_READ`: a power source failed while reading; the tracker keeps its last total.
 * - `REPORTER`: a reporter threw or rejected; other reporters still ran (its own error is the `cause`).
 * - `REPORTER_IO`, `REPORTER_DATA`: raised by the built-in file reporters (file and OS error named; a non-finite value).
 * - `NATIVE_UNAVAILABLE`, `NVML_*`, `RAPL_*`: native-layer failures (see docs/measurement.md).
 * - `MISSING_CHUNK`, `MISSING_DATA`: a bundle left behind a file of wattprint's dist/ (code that
 *   loads on first use, an offline data table); the message names the file and the fix.
 *
 * Read the fields, not the message: its wording may change.
 */
export class WattprintError extends Error {
  override readonly name = 'WattprintError';
  readonly code: string;
  /** The option concerned, for option errors (the variable or key as written, for `UNKNOWN_OPTION`). */
  readonly option?: string;
  /** Where the offending value came from, for option errors. */
  readonly origin?: OptionOrigin;
  /** For option errors: what is wrong with the value and how to fix it, without the option's name. */
  readonly reason?: string;

  constructor(code: string, message: string, options?: { option?: string; origin?: OptionOrigin; reason?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
    if (options?.origin !== undefined) this.origin = options.origin;
    if (options?.reason !== undefined) this.reason = options.reason;
  }
}

/** The fix for `MISSING_CHUNK` and `MISSING_DATA`: a bundle that left part of wattprint's dist/ behind. */
export const KEEP_DIST_FIX = 'When bundling, keep wattprint external (or copy all of its dist/ next to the bundle).';

/** `INVALID_OPTION` (or another option `code`): "Invalid option `x`: reason (from origin)". */
export function invalidOption(option: string, reason: string, origin?: OptionOrigin, code = 'INVALID_OPTION'): WattprintError {
  return new WattprintError(code, `Invalid option \`${option}\`: ${reason}${describeOrigin(origin)}`, { option, reason, ...(origin ? { origin } : {}) });
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
