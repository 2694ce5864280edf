/**
 * Class 6, terminals and big files: `wattprint report` prints no control characters from the data,
 * streams large files, and reads CodeCarbon's files with empty cells; `wattprint run`'s status line
 * never lands inside the command's output.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSV_COLUMNS, formatCsvLine } from '../../src/reporters/index.js';
import { cliBundle, runCli } from '../cli/helpers.js';
import { tempDir } from './helpers.js';

const hasScript = existsSync('/usr/bin/script');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs the CLI under script(1), so that stdin, stdout and stderr are a pseudo-terminal. */
function onTerminal(args: string[]): { status: number | null; out: string } {
  const inner = [process.execPath, cliBundle(), ...args].map(quote).join(' ');
  const res = spawnSync('script', ['-qec', inner, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  return { status: res.status, out: res.stdout };
}

// Writes "part-A", waits past two status refreshes, then "part-B" and a \r progress bar.
const CHATTY = `process.stdout.write('part-A'); setTimeout(() => { process.stdout.write('part-B\\n'); process.stdout.write('bar 1/2\\rbar 2/2'); setTimeout(() => process.stdout.write('\\ndone\\n'), 1300); }, 2300);`;

describe('wattprint run status line', () => {
  it.runIf(hasScript)('is off by default when the command shares the terminal', () => {
    const r = onTerminal(['run', '--output-dir', tempDir(), '--', process.execPath, '-e', CHATTY]);
    expect(r.status).toBe(0);
    expect(r.out).toContain('part-Apart-B');
    expect(r.out).not.toContain('\x1b[2K');
  });

  it.runIf(hasScript)('with --status is drawn only between whole lines of the command output', () => {
    const r = onTerminal(['run', '--status', '--output-dir', tempDir(), '--', process.execPath, '-e', CHATTY]);
    expect(r.status).toBe(0);
    expect(r.out).toContain('part-Apart-B');
    expect(r.out).toContain('bar 1/2\rbar 2/2');
    // Every status frame starts at the beginning of a line.
    const frames = [...r.out.matchAll(/\r\x1b\[2Kwattprint \d/g)];
    expect(frames.length).toBeGreaterThanOrEqual(1);
    for (const f of frames) {
      const before = r.out.slice(0, f.index);
      expect(before === '' || /(\n|\x1b\[2K|CO2eq)$/.test(before), JSON.stringify(before.slice(-40))).toBe(true);
    }
  });
});

describe('wattprint report', () => {
  it('strips terminal control sequences from the data it prints', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const evil = '\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202eevil\x9b1m';
    const row = CSV_COLUMNS.map((c) => (c === 'project_name' || c === 'run_id' || c === 'cpu_model' ? evil : c === 'timestamp' ? `2026\x1b[1A` : '1'));
    writeFileSync(file, formatCsvLine(CSV_COLUMNS) + formatCsvLine(row));
    const r = await runCli(['report', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('red');
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it("reads a CodeCarbon 2.x file with empty cells (CodeCarbon's own test data, plus an empty gpu_energy)", async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const header =
      'timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue';
    const rows = [
      '2021-09-23T15:04:51,codecarbon,0a578547-1d6b-4e2f-be0c-7ad10f2f7c97,161.20380687713623,0.0004490989249167,0.0027859076880178,0.269999999999999,0.0,12.884901888000002,0.0,0,0.00057442898176,0.00057442898176,Morocco,MAR,casablanca-settat,,,macOS-10.15.7-x86_64-i386-64bit,3.8.0,2.1.3,12,Intel(R) Core(TM) i7-8850H CPU @ 2.60GHz,,,-7.9084,33.5932,,machine,N,1.0',
      '2021-09-23T15:05:51,codecarbon,1b578547-1d6b-4e2f-be0c-7ad10f2f7c97,60,0.0001,,1.5,,,0.0002,,0.0001,,Morocco,MAR,,,,,,2.1.3,12,,,,,,,machine,N,',
    ];
    writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
    const r = await runCli(['report', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 rows, 2 runs in 1 project');
    expect(r.stdout).toContain('project codecarbon');
  });

  it('reads a CodeCarbon 1.x file that has energy_consumed but no per-component columns', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    writeFileSync(
      file,
      'timestamp,experiment_id,project_name,duration,emissions,energy_consumed,country_name,country_iso_code,region,on_cloud,cloud_provider,cloud_region\n' +
        '2020-03-23T09:26:11,68f53844-f3af-48fb-971a-ffab844a6b6f,project_gamma,34,8,8,USA,USA,Ohio,Y,aws,us-east-2\n' +
        '2020-03-25T21:26:11,ed2a22f1-aa97-4fe2-a52c-a985817b7493,project_alpha,19,1,1,Canada,CAN,Ontario,N,,\n',
    );
    const r = await runCli(['report', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 rows');
  });

  it('streams: memory stays far below the size of a large CSV', () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const base = CSV_COLUMNS.map((c) => (c === 'run_id' ? 'RUN' : c === 'project_name' ? 'p' : c === 'cpu_model' ? 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz with a long model name' : c === 'timestamp' ? '2026-08-09T10:11:12' : '0.000123456789012345'));
    const lines: string[] = [formatCsvLine(CSV_COLUMNS)];
    for (let k = 0; k < 60_000; k++) lines.push(formatCsvLine(base.map((v) => (v === 'RUN' ? `run-${k % 20}` : v))));
    writeFileSync(file, lines.join(''));
    // ~55 MB of CSV; a 48 MB old-space limit leaves no room for the text, only for the rows.
    const res = spawnSync(process.execPath, ['--max-old-space-size=48', cliBundle(), 'report', file], { encoding: 'utf8', timeout: 60_000 });
    expect(res.status, res.stderr.slice(-500)).toBe(0);
    expect(res.stdout).toContain('60000 rows, 20 runs');
  });
});
