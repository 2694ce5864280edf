import { WattprintError } from '../errors.js';

/** Exit statuses of the CLI besides a tracked command's own (docs/cli.md lists them all). */
export const EXIT = {
  OK: 0,
  /** Unexpected failure inside wattprint. */
  FAILURE: 1,
  /** Bad flags, bad option values, unknown GPU model, unreadable input file. */
  USAGE: 2,
  /** The command exists but cannot be executed (permissions, a folder). */
  NOT_EXECUTABLE: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;

/** An error the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Option and configuration errors of the library are usage errors (exit 2); others are failures. */
const USAGE_CODES = new Set(['INVALID_OPTION', 'UNKNOWN_OPTION', 'UNTRUSTED_OPTION', 'OUTPUT_DIR', 'CONFIG_FILE']);

export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof WattprintError && USAGE_CODES.has(error.code)) return EXIT.USAGE;
  return EXIT.FAILURE;
}

/** The message of an error on one line, as printed after `wattprint: `. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
