import { join, resolve } from 'node:path';
import type { EmissionsData, ReportContext, Reporter, WattprintWarning } from '../types.js';
import { invalidOption } from '../errors.js';
import { CSV_COLUMNS, TASK_CSV_COLUMNS, toCsvRow, toTaskCsvRow } from './columns.js';
import { formatCsvLine, parseCsvRecords } from './csv-text.js';
import { appendWhole, atomicWriteFile, backupFile, fileState, readHead, readText, tornWarning } from './file-io.js';
import { withFileLockAsync, type FileLockOptions } from './file-lock.js';

/** How rows are added to an existing CSV: a new row per report, or one row per `run_id` refreshed in place. */
export type CsvWriteMode = 'append' | 'update';

/** Options of {@link csvReporter}. */
export interface CsvReporterOptions {
  /** Folder of the CSV files; must exist. */
  readonly outputDir: string;
  /** File name (or path relative to `outputDir`) of the run results. Default `'emissions.csv'`. */
  readonly outputFile?: string;
  /** Overrides the tracker's `onCsvWrite` (passed in each {@link ReportContext}). Default `'append'`. */
  readonly onCsvWrite?: CsvWriteMode;
  /** Receives `CSV_BACKUP` when a file with another header is moved aside, `FILE_TORN` when one with a torn last row is. */
  readonly onWarning?: (warning: WattprintWarning) => void;
  /** Lock tuning (tests). */
  readonly lock?: FileLockOptions;
}

/** Options of {@link writeCsvRecord}. */
export interface WriteCsvRecordOptions {
  readonly mode: CsvWriteMode;
  /** In 'update' mode, the column whose value identifies the row to replace. */
  readonly keyColumn?: string;
  readonly lock?: FileLockOptions;
  /** Called with the backup path when a file with another header was moved aside. */
  readonly onBackup?: (backupPath: string) => void;
  /** Called with the backup path when a file whose last row was torn was moved aside. */
  readonly onTorn?: (backupPath: string) => void;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/**
 * Writes one record to a CSV file under its lock file, taken without blocking the event loop
 * (synchronously only while the process ends). A missing or empty file is created with the
 * header; a file whose header is not exactly `columns` is backed up CodeCarbon-style (`<name>.bak`,
 * `<name>_0.bak`, ...) and started afresh, and so is a file whose last row is torn (no final line
 * break and a short last record, or an open quoted field), so that later rows stay readable.
 * 'append' adds the row with a single O_APPEND write, truncated back on a failed or short write;
 * 'update' replaces the last row whose `keyColumn` cell equals the new row's (or appends),
 * rewriting the file through a temp file and a rename that keep its mode and owner. Other rows are
 * kept byte for byte. Never follows a symlink at the file's path.
 */
export function writeCsvRecord(path: string, columns: readonly string[], row: readonly string[], opts: WriteCsvRecordOptions): Promise<void> {
  const line = formatCsvLine(row);
  const fresh = () => atomicWriteFile(path, formatCsvLine(columns) + line);
  return withFileLockAsync(
    path,
    (lock) => {
      const state = fileState(path, true);
      if (state === undefined || state.sizeBytes === 0) return fresh();
      const header = parseCsvRecords(readHead(path), 1)[0]?.fields ?? [];
      if (!sameColumns(header, columns)) {
        const backup = backupFile(path);
        fresh();
        opts.onBackup?.(backup);
        return;
      }
      const torn = state.insideQuotes || (!state.endsWithNewline && parseCsvRecords(state.lastLine, 1)[0]?.fields.length !== columns.length);
      if (torn) {
        const backup = backupFile(path);
        fresh();
        opts.onTorn?.(backup);
        return;
      }
      if (opts.mode === 'append') return appendWhole(path, state.endsWithNewline ? line : `\n${line}`);
      const text = readText(path);
      lock.renew();
      const keyIdx = columns.indexOf(opts.keyColumn ?? 'run_id');
      const records = parseCsvRecords(text);
      let target: (typeof records)[number] | undefined;
      for (let k = records.length - 1; k >= 1 && keyIdx >= 0; k--) {
        if (records[k]!.fields[keyIdx] === row[keyIdx]) {
          target = records[k];
          break;
        }
      }
      const next = target ? text.slice(0, target.start) + line + text.slice(target.end) : text + (state.endsWithNewline ? '' : '\n') + line;
      lock.renew();
      lock.assertHeld();
      atomicWriteFile(path, next);
    },
    opts.lock,
  );
}

/** Keeps a task file name inside the output folder whatever the experiment name or run id holds. */
function fileNamePart(s: string): string {
  return s.replace(/[/\\\x00-\x1f]/g, '_');
}

/** `emissions_<experimentName>_<runId>.csv` in `outputDir`, CodeCarbon's per-run task file. */
export function taskCsvPath(outputDir: string, experimentName: string, runId: string): string {
  return join(outputDir, `emissions_${fileNamePart(experimentName)}_${fileNamePart(runId)}.csv`);
}

/**
 * The CodeCarbon-compatible CSV reporter (id `'csv'`). Run results (phases 'flush' and 'stop') go
 * to `outputFile` with the 38 {@link CSV_COLUMNS}; task results (phase 'task') are appended to
 * {@link taskCsvPath} with {@link TASK_CSV_COLUMNS}. Safe with several processes writing the same
 * file. Throws `WattprintError('REPORTER_IO')` naming the file on I/O errors.
 *
 * @example
 * const csv = csvReporter({ outputDir: 'out', onCsvWrite: 'update' });
 */
export function csvReporter(opts: CsvReporterOptions): Reporter {
  if (typeof opts?.outputDir !== 'string' || opts.outputDir === '') {
    throw invalidOption('outputDir', 'csvReporter needs `outputDir`, the folder to write emissions.csv in.');
  }
  if (opts.outputFile !== undefined && (typeof opts.outputFile !== 'string' || opts.outputFile === '')) {
    throw invalidOption('outputFile', 'expected a non-empty file name such as "emissions.csv".');
  }
  if (opts.onCsvWrite !== undefined && opts.onCsvWrite !== 'append' && opts.onCsvWrite !== 'update') {
    throw invalidOption('onCsvWrite', `expected 'append' or 'update', got ${JSON.stringify(opts.onCsvWrite)}.`);
  }
  const outputDir = opts.outputDir;
  const file = resolve(outputDir, opts.outputFile ?? 'emissions.csv');
  const warnBackup = (from: string) => (backup: string) =>
    opts.onWarning?.({
      code: 'CSV_BACKUP',
      message: `${from} had other columns than wattprint's (CodeCarbon 3.x) header: moved it to ${backup} and started a new file.`,
      option: 'outputFile',
    });
  const warnTorn = (from: string) => (backup: string) => opts.onWarning?.(tornWarning(from, backup));
  return {
    id: 'csv',
    report(data: EmissionsData, ctx: ReportContext): Promise<void> {
      if (ctx?.phase === 'task' || data.taskName !== undefined) {
        const path = taskCsvPath(outputDir, data.experimentName ?? '', data.runId);
        return writeCsvRecord(path, TASK_CSV_COLUMNS, toTaskCsvRow(data), { mode: 'append', lock: opts.lock, onBackup: warnBackup(path), onTorn: warnTorn(path) });
      }
      const mode = opts.onCsvWrite ?? ctx?.onCsvWrite ?? 'append';
      return writeCsvRecord(file, CSV_COLUMNS, toCsvRow(data), { mode, keyColumn: 'run_id', lock: opts.lock, onBackup: warnBackup(file), onTorn: warnTorn(file) });
    },
  };
}
