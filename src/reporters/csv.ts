import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EmissionsData, ReportContext, Reporter, WattprintWarning } from '../types.js';
import { invalidOption } from '../errors.js';
import { CSV_COLUMNS, TASK_CSV_COLUMNS, toCsvRow, toTaskCsvRow } from './columns.js';
import { formatCsvLine, parseCsvRecords } from './csv-text.js';
import { appendWhole, atomicWriteFile, backupFile, fileState, ioError, readHead } from './file-io.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';

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
  /** Receives `CSV_BACKUP` when a file with another header is moved aside. */
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
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/**
 * Writes one record to a CSV file under its lock file. A missing or empty file is created with
 * the header; a file whose header is not exactly `columns` is backed up CodeCarbon-style
 * (`<name>.bak`, `<name>_0.bak`, ...) and started afresh. 'append' adds the row with a single
 * O_APPEND write; 'update' replaces the last row whose `keyColumn` cell equals the new row's (or
 * appends), rewriting the file through a temp file and a rename. Other rows are kept byte for byte.
 */
export function writeCsvRecord(path: string, columns: readonly string[], row: readonly string[], opts: WriteCsvRecordOptions): void {
  const line = formatCsvLine(row);
  withFileLock(
    path,
    () => {
      const state = fileState(path);
      if (state === undefined || state.sizeBytes === 0) {
        atomicWriteFile(path, formatCsvLine(columns) + line);
        return;
      }
      const header = parseCsvRecords(readHead(path), 1)[0]?.fields ?? [];
      if (!sameColumns(header, columns)) {
        const backup = backupFile(path);
        atomicWriteFile(path, formatCsvLine(columns) + line);
        opts.onBackup?.(backup);
        return;
      }
      if (opts.mode === 'append') {
        appendWhole(path, line, state.endsWithNewline);
        return;
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw ioError('read', path, err);
      }
      const keyIdx = columns.indexOf(opts.keyColumn ?? 'run_id');
      const records = parseCsvRecords(text);
      let target: (typeof records)[number] | undefined;
      for (let k = records.length - 1; k >= 1 && keyIdx >= 0; k--) {
        if (records[k]!.fields[keyIdx] === row[keyIdx]) {
          target = records[k];
          break;
        }
      }
      const next = target
        ? text.slice(0, target.start) + line + text.slice(target.end)
        : text + (/[\r\n]$/.test(text) ? '' : '\n') + line;
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
  return {
    id: 'csv',
    report(data: EmissionsData, ctx: ReportContext): void {
      if (ctx?.phase === 'task' || data.taskName !== undefined) {
        const path = taskCsvPath(outputDir, data.experimentName ?? '', data.runId);
        writeCsvRecord(path, TASK_CSV_COLUMNS, toTaskCsvRow(data), { mode: 'append', lock: opts.lock, onBackup: warnBackup(path) });
        return;
      }
      const mode = opts.onCsvWrite ?? ctx?.onCsvWrite ?? 'append';
      writeCsvRecord(file, CSV_COLUMNS, toCsvRow(data), { mode, keyColumn: 'run_id', lock: opts.lock, onBackup: warnBackup(file) });
    },
  };
}
