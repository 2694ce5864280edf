import { resolve } from 'node:path';
import type { EmissionsData, ReportContext, Reporter, WattprintWarning } from '../types.js';
import { invalidOption } from '../errors.js';
import { toJsonRecord } from './columns.js';
import { appendWhole, atomicWriteFile, backupFile, fileState, tornWarning } from './file-io.js';
import { withFileLockAsync, type FileLockOptions } from './file-lock.js';

/** Options of {@link jsonReporter}. */
export interface JsonReporterOptions {
  /** Folder of the files; must exist. */
  readonly outputDir: string;
  /** JSON Lines file of results, one object per report. Default `'emissions.jsonl'`. */
  readonly outputFile?: string;
  /** File that `writeReport` replaces with the full run report. Default `'wattprint-report.json'`. */
  readonly reportFile?: string;
  /** Lock tuning (tests). */
  readonly lock?: FileLockOptions;
  /** Receives `FILE_TORN` when a file whose last line was torn is moved aside. */
  readonly onWarning?: (warning: WattprintWarning) => void;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Appends `line` (which ends with LF) to a file under its lock, whole or not at all. A file whose
 * last line is torn is moved aside first (`onTorn` gets the backup path), so later lines parse.
 */
export function appendLine(path: string, line: string, lock?: FileLockOptions, onTorn?: (backup: string) => void): Promise<void> {
  return withFileLockAsync(
    path,
    () => {
      const state = fileState(path);
      if (state === undefined || state.sizeBytes === 0) return atomicWriteFile(path, line);
      if (!state.endsWithNewline && !isJson(state.lastLine)) {
        const backup = backupFile(path);
        atomicWriteFile(path, line);
        onTorn?.(backup);
        return;
      }
      appendWhole(path, state.endsWithNewline ? line : `\n${line}`);
    },
    lock,
  );
}

function checkName(option: string, v: unknown, example: string): void {
  if (v !== undefined && (typeof v !== 'string' || v === '')) {
    throw invalidOption(option, `expected a non-empty file name such as "${example}".`);
  }
}

/**
 * The JSON reporter (id `'json'`). Each report appends one line to `outputFile`
 * ({@link toJsonRecord}: every CSV column in snake_case, plus `experiment_name`, `task_name` for
 * tasks, `phase`, `intensity_g_per_kwh`, `intensity_source` and `boundary`), run and task results
 * alike. `writeReport(report)` writes `reportFile` as pretty JSON through a temp file and a rename.
 * Throws `WattprintError('REPORTER_IO')` naming the file on I/O errors.
 */
export function jsonReporter(opts: JsonReporterOptions): Reporter {
  if (typeof opts?.outputDir !== 'string' || opts.outputDir === '') {
    throw invalidOption('outputDir', 'jsonReporter needs `outputDir`, the folder to write emissions.jsonl in.');
  }
  checkName('outputFile', opts.outputFile, 'emissions.jsonl');
  checkName('reportFile', opts.reportFile, 'wattprint-report.json');
  const file = resolve(opts.outputDir, opts.outputFile ?? 'emissions.jsonl');
  const reportPath = resolve(opts.outputDir, opts.reportFile ?? 'wattprint-report.json');
  return {
    id: 'json',
    report(data: EmissionsData, ctx: ReportContext): Promise<void> {
      return appendLine(file, `${JSON.stringify(toJsonRecord(data, ctx))}\n`, opts.lock, (backup) => opts.onWarning?.(tornWarning(file, backup)));
    },
    writeReport(report: unknown): void {
      atomicWriteFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    },
  };
}
