/**
 * Every error wattprint throws or emits. `code` is a stable string to switch on:
 *
 * - `INVALID_OPTION`: an option has the wrong type or value (`option` names it).
 * - `UNKNOWN_OPTION`: an option name is not recognised (the message suggests the right one).
 * - `OUTPUT_DIR`: the output folder cannot be created, is not a folder, or is not writable.
 * - `CONFIG_FILE`: a config file exists but cannot be parsed.
 * - `STATE`: a method was called in the wrong lifecycle state (start twice, stopTask of an unknown task).
 * - `SOURCE_READ`: a power source failed while reading; the tracker keeps its last total.
 * - `REPORTER`: a reporter threw or rejected; other reporters still ran (its own error is the `cause`).
 * - `REPORTER_IO`, `REPORTER_DATA`: raised by the built-in file reporters (file and OS error named; a non-finite value).
 * - `NATIVE_UNAVAILABLE`, `NVML_*`, `RAPL_*`: native-layer failures (see docs/measurement.md).
 */
export class WattprintError extends Error {
  override readonly name = 'WattprintError';
  readonly code: string;
  /** The option concerned, for option errors. */
  readonly option?: string;

  constructor(code: string, message: string, options?: { option?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** Shorthand for `new WattprintError('INVALID_OPTION', ...)`. */
export function invalidOption(option: string, message: string): WattprintError {
  return new WattprintError('INVALID_OPTION', `Invalid option \`${option}\`: ${message}`, { option });
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
