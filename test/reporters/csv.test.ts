import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportContext, WattprintWarning } from '../../src/types.js';
import { WattprintError } from '../../src/errors.js';
import { CSV_COLUMNS, TASK_CSV_COLUMNS, csvReporter, parseCsv, readCsv, taskCsvPath } from '../../src/reporters/index.js';
import { expectedCells, makeData, tempDir } from './fixture.js';

const HEADER_LINE = `${CSV_COLUMNS.join(',')}\n`;
const FLUSH: ReportContext = { phase: 'flush', onCsvWrite: 'append' };
const STOP: ReportContext = { phase: 'stop', onCsvWrite: 'append' };
const TASK: ReportContext = { phase: 'task', onCsvWrite: 'append' };

function catchError(fn: () => unknown): WattprintError {
  try {
    fn();
  } catch (e) {
    return e as WattprintError;
  }
  throw new Error('expected a throw');
}

describe('csvReporter: file creation and content', () => {
  it('creates the file with the exact header and one row of all 38 fields', () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir });
    expect(r.id).toBe('csv');
    const d = makeData({ longitude: undefined, latitude: undefined });
    r.report(d, STOP);
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(text.startsWith(HEADER_LINE)).toBe(true);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveLength(38);
    expect(readCsv(join(dir, 'emissions.csv'))).toEqual([expectedCells(d)]);
    expect(text.endsWith('\n') && !text.includes('\r')).toBe(true);
    expect(existsSync(join(dir, 'emissions.csv.lock'))).toBe(false);
  });

  it('round-trips project names with commas, quotes, newlines and formula starts', () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir, outputFile: 'names.csv' });
    const names = ['a,b', 'say "hi", ok', 'line1\nline2', 'crlf\r\nend', '=cmd|" /C calc"!A0', '-rf', '+x', '@SUM(1)', '"quoted"', 'plain'];
    names.forEach((projectName, k) => r.report(makeData({ projectName, runId: `run-${k}`, longitude: -1.5 }), STOP));
    const rows = readCsv(join(dir, 'names.csv'));
    expect(rows.map((x) => x.project_name)).toEqual([
      'a,b',
      'say "hi", ok',
      'line1\nline2',
      'crlf\r\nend',
      `'=cmd|" /C calc"!A0`,
      "'-rf",
      "'+x",
      "'@SUM(1)",
      '"quoted"',
      'plain',
    ]);
    expect(rows.map((x) => x.run_id)).toEqual(names.map((_, k) => `run-${k}`));
    for (const row of rows) {
      expect(Object.keys(row)).toHaveLength(38);
      expect(row.longitude).toBe('-1.5');
      expect(row.cpu_count).toBe('16');
    }
    expect(parseCsv(readFileSync(join(dir, 'names.csv'), 'utf8')).every((f) => f.length === 38)).toBe(true);
  });

  it('treats an existing empty file as new', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'emissions.csv'), '');
    csvReporter({ outputDir: dir }).report(makeData(), STOP);
    expect(readFileSync(join(dir, 'emissions.csv'), 'utf8').startsWith(HEADER_LINE)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bak'))).toEqual([]);
  });

  it('appends after a CodeCarbon file with the same header and no final newline', () => {
    const dir = tempDir();
    const cc = `${CSV_COLUMNS.join(',')}\r\n${CSV_COLUMNS.map((c) => (c === 'run_id' ? 'cc-run' : '1')).join(',')}`;
    writeFileSync(join(dir, 'emissions.csv'), cc);
    csvReporter({ outputDir: dir }).report(makeData(), STOP);
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(text.startsWith(cc)).toBe(true);
    expect(readCsv(join(dir, 'emissions.csv')).map((r) => r.run_id)).toEqual(['cc-run', makeData().runId]);
  });
});

describe('csvReporter: append and update modes', () => {
  it("'append' adds a row per flush and stop", () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir });
    r.report(makeData({ durationS: 10, emissionsKg: 0.001 }), FLUSH);
    r.report(makeData({ durationS: 20, emissionsKg: 0.003 }), STOP);
    const rows = readCsv(join(dir, 'emissions.csv'));
    expect(rows.map((x) => [x.run_id, x.duration, x.emissions])).toEqual([
      [makeData().runId, '10', '0.001'],
      [makeData().runId, '20', '0.003'],
    ]);
  });

  it("'update' keeps one row per run with the latest values; another run adds a row", () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir, onCsvWrite: 'update' });
    r.report(makeData({ runId: 'A', durationS: 10, emissionsKg: 0.001 }), FLUSH);
    r.report(makeData({ runId: 'B', durationS: 5, emissionsKg: 0.0005, projectName: 'multi\nline, "b"' }), STOP);
    r.report(makeData({ runId: 'A', durationS: 20, emissionsKg: 0.003 }), FLUSH);
    r.report(makeData({ runId: 'A', durationS: 30.25, emissionsKg: 0.0047 }), STOP);
    const rows = readCsv(join(dir, 'emissions.csv'));
    expect(rows.map((x) => [x.run_id, x.duration, x.emissions, x.project_name])).toEqual([
      ['A', '30.25', '0.0047', 'demo'],
      ['B', '5', '0.0005', 'multi\nline, "b"'],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['emissions.csv']);
  });

  it("'update' leaves other rows byte for byte and replaces only the run's last row", () => {
    const dir = tempDir();
    const foreign = CSV_COLUMNS.map((c) => (c === 'run_id' ? 'X' : c === 'project_name' ? '"quoted, kept"' : '0'));
    const foreignLine = `${foreign.join(',')}\r\n`;
    writeFileSync(join(dir, 'emissions.csv'), HEADER_LINE + foreignLine);
    const append = csvReporter({ outputDir: dir });
    append.report(makeData({ runId: 'A', durationS: 1 }), FLUSH);
    append.report(makeData({ runId: 'A', durationS: 2 }), FLUSH);
    csvReporter({ outputDir: dir, onCsvWrite: 'update' }).report(makeData({ runId: 'A', durationS: 3 }), STOP);
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(text.startsWith(HEADER_LINE + foreignLine)).toBe(true);
    expect(readCsv(join(dir, 'emissions.csv')).map((x) => [x.run_id, x.duration])).toEqual([
      ['X', '0'],
      ['A', '1'],
      ['A', '3'],
    ]);
  });

  it("uses the tracker's onCsvWrite from the context when the reporter has none", () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir });
    r.report(makeData({ durationS: 1 }), { phase: 'flush', onCsvWrite: 'update' });
    r.report(makeData({ durationS: 2 }), { phase: 'stop', onCsvWrite: 'update' });
    expect(readCsv(join(dir, 'emissions.csv')).map((x) => x.duration)).toEqual(['2']);
  });
});

describe('csvReporter: backups of files with another header', () => {
  it('moves them to .bak, then _0.bak, _1.bak, keeping their content', () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const warnings: WattprintWarning[] = [];
    const r = csvReporter({ outputDir: dir, onWarning: (w) => warnings.push(w) });
    const old = ['timestamp,project_name,duration\nt,p,1\n', 'a,b\n1,2\n', 'just text\n'];
    for (const content of old) {
      writeFileSync(file, content);
      r.report(makeData(), STOP);
      expect(readFileSync(file, 'utf8').startsWith(HEADER_LINE)).toBe(true);
      expect(readCsv(file)).toHaveLength(1);
    }
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(old[0]);
    expect(readFileSync(`${file}_0.bak`, 'utf8')).toBe(old[1]);
    expect(readFileSync(`${file}_1.bak`, 'utf8')).toBe(old[2]);
    expect(warnings.map((w) => w.code)).toEqual(['CSV_BACKUP', 'CSV_BACKUP', 'CSV_BACKUP']);
    expect(warnings[1]!.message).toContain(`${file}_0.bak`);
  });

  it('backs up a file with the same columns in another order or with an extra column', () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const reordered = [...CSV_COLUMNS].reverse().join(',') + '\n';
    writeFileSync(file, reordered);
    csvReporter({ outputDir: dir }).report(makeData(), STOP);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(reordered);
    writeFileSync(file, `${CSV_COLUMNS.join(',')},extra\n`);
    csvReporter({ outputDir: dir }).report(makeData(), STOP);
    expect(existsSync(`${file}_0.bak`)).toBe(true);
    expect(readCsv(file)).toHaveLength(1);
  });
});

describe('csvReporter: task results', () => {
  it('go to emissions_<experimentName>_<runId>.csv with task_name first', () => {
    const dir = tempDir();
    const r = csvReporter({ outputDir: dir, onCsvWrite: 'update' });
    const runId = 'r-123';
    r.report(makeData({ runId, experimentName: 'exp1', taskName: 'load', durationS: 1.5 }), TASK);
    r.report(makeData({ runId, experimentName: 'exp1', taskName: '=evil, "task"', durationS: 2.5 }), TASK);
    const path = join(dir, 'emissions_exp1_r-123.csv');
    expect(taskCsvPath(dir, 'exp1', runId)).toBe(path);
    expect(readdirSync(dir)).toEqual(['emissions_exp1_r-123.csv']);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(`${TASK_CSV_COLUMNS.join(',')}\n`)).toBe(true);
    const rows = readCsv(path);
    expect(rows.map((x) => [x.task_name, x.duration, x.run_id])).toEqual([
      ['load', '1.5', runId],
      [`'=evil, "task"`, '2.5', runId],
    ]);
    expect(Object.keys(rows[0]!)).toEqual(TASK_CSV_COLUMNS);
  });

  it('keep path separators in names out of the file name', () => {
    expect(taskCsvPath('/out', '../x/y', 'a\\b')).toBe('/out/emissions_.._x_y_a_b.csv');
  });
});

describe('csvReporter: errors', () => {
  it('rejects with REPORTER_IO naming the file and the OS error', async () => {
    const dir = join(tempDir(), 'missing');
    const err = (await Promise.resolve(csvReporter({ outputDir: dir }).report(makeData(), STOP)).catch((e: unknown) => e)) as WattprintError;
    expect(err).toBeInstanceOf(WattprintError);
    expect(err.code).toBe('REPORTER_IO');
    expect(err.message).toContain(join(dir, 'emissions.csv'));
    expect(err.message).toContain('ENOENT');
  });

  it('validates its options', () => {
    expect(catchError(() => csvReporter({ outputDir: '' })).code).toBe('INVALID_OPTION');
    const bad = catchError(() => csvReporter({ outputDir: '.', onCsvWrite: 'replace' as never }));
    expect(bad.option).toBe('onCsvWrite');
    expect(bad.message).toContain("'append' or 'update'");
  });
});
