import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { CSV_COLUMNS, parseCsv, readCsv } from '../../src/reporters/index.js';
import { makeData, tempDir } from './fixture.js';

// Children run the real reporter code: src/reporters bundled to plain ESM by esbuild.
const WORKER = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { csvReporter, jsonReporter } from './reporters.mjs';
const [dir, workerArg, countArg, mode] = process.argv.slice(2);
const worker = Number(workerArg), count = Number(countArg);
const base = JSON.parse(process.env.WATTPRINT_TEST_BASE);
const csv = csvReporter({ outputDir: dir, onCsvWrite: mode });
const json = jsonReporter({ outputDir: dir });
const cell = new Int32Array(new SharedArrayBuffer(4));
// Start barrier: all children begin writing together, whatever their start-up time.
while (!existsSync(join(dir, 'go'))) Atomics.wait(cell, 0, 0, 2);
for (let k = 0; k < count; k++) {
  const d = { ...base, projectName: 'w' + worker + ', "proj"\\nline', runId: mode === 'update' ? 'w' + worker : 'w' + worker + '-' + k,
    durationS: k + worker / 10, emissionsKg: (k + 1) * 1e-7 * (worker + 1) };
  const ctx = { phase: 'stop', onCsvWrite: mode };
  csv.report(d, ctx);
  if (mode === 'append') json.report(d, ctx);
}
`;

// Writes one row from a SIGTERM handler, as a tracker stopped by a signal does.
const ON_SIGNAL = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvReporter } from './reporters.mjs';
const dir = process.argv[2];
const csv = csvReporter({ outputDir: dir });
process.on('SIGTERM', () => {
  csv.report({ ...JSON.parse(process.env.WATTPRINT_TEST_BASE), runId: 'on-signal' }, { phase: 'stop', onCsvWrite: 'append' });
  process.exit(0);
});
writeFileSync(join(dir, 'ready'), '');
setInterval(() => {}, 1000);
`;

let lib: string;

beforeAll(() => {
  lib = tempDir();
  buildSync({
    entryPoints: [fileURLToPath(new URL('../../src/reporters/index.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(lib, 'reporters.mjs'),
    logLevel: 'silent',
  });
  writeFileSync(join(lib, 'worker.mjs'), WORKER);
  writeFileSync(join(lib, 'on-signal.mjs'), ON_SIGNAL);
});

function runWorkers(dir: string, workers: number, count: number, mode: 'append' | 'update'): Promise<void> {
  const base = JSON.stringify(makeData());
  const children = Array.from({ length: workers }, (_, w) => {
    const child = spawn(process.execPath, [join(lib, 'worker.mjs'), dir, String(w), String(count), mode], {
      env: { ...process.env, WATTPRINT_TEST_BASE: base },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    return new Promise<void>((res, rej) =>
      child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`worker ${w} exited ${code}: ${err}`)))),
    );
  });
  // Give every child time to reach the barrier before opening it.
  setTimeout(() => writeFileSync(join(dir, 'go'), ''), 300);
  return Promise.all(children).then(() => undefined);
}

describe('concurrent writers in child processes', () => {
  it("'append', 4 processes x 200 rows: one header, 800 whole rows with the expected values, one backup of the old file", async () => {
    const dir = join(tempDir(), 'out');
    mkdirSync(dir);
    writeFileSync(join(dir, 'emissions.csv'), 'old,header\n1,2\n');
    await runWorkers(dir, 4, 200, 'append');

    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    const records = parseCsv(text);
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records.filter((r) => r[0] === 'timestamp')).toHaveLength(1);
    expect(records).toHaveLength(801);
    expect(records.every((r) => r.length === 38)).toBe(true);

    const rows = readCsv(join(dir, 'emissions.csv'));
    const seen = new Set<string>();
    for (const row of rows) {
      const m = /^w(\d)-(\d+)$/.exec(row.run_id!);
      expect(m).not.toBeNull();
      const w = Number(m![1]);
      const k = Number(m![2]);
      seen.add(row.run_id!);
      expect(row.project_name).toBe(`w${w}, "proj"\nline`);
      expect(row.duration).toBe(String(k + w / 10));
      expect(row.emissions).toBe(String((k + 1) * 1e-7 * (w + 1)));
      expect(row.wue).toBe('1.8');
    }
    expect(seen.size).toBe(800);

    const backups = readdirSync(dir).filter((f) => f.endsWith('.bak'));
    expect(backups).toEqual(['emissions.csv.bak']);
    expect(readFileSync(join(dir, 'emissions.csv.bak'), 'utf8')).toBe('old,header\n1,2\n');
    expect(readdirSync(dir).filter((f) => f.includes('.lock') || f.endsWith('.tmp'))).toEqual([]);

    const lines = readFileSync(join(dir, 'emissions.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(800);
    const ids = new Set(lines.map((l) => (JSON.parse(l) as { run_id: string }).run_id));
    expect(ids.size).toBe(800);
  });

  it("'update', 3 processes x 100 updates: a missing file gets one header and each run keeps exactly one row with its last values", async () => {
    const dir = join(tempDir(), 'out');
    mkdirSync(dir);
    await runWorkers(dir, 3, 100, 'update');
    const records = parseCsv(readFileSync(join(dir, 'emissions.csv'), 'utf8'));
    expect(records.filter((r) => r[0] === 'timestamp')).toHaveLength(1);
    const rows = readCsv(join(dir, 'emissions.csv'));
    expect(rows.map((r) => [r.run_id, r.duration]).sort()).toEqual([
      ['w0', String(99)],
      ['w1', String(99 + 1 / 10)],
      ['w2', String(99 + 2 / 10)],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['emissions.csv', 'go']);
  });

  it('a row written from a SIGTERM handler is complete', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [join(lib, 'on-signal.mjs'), dir], {
      env: { ...process.env, WATTPRINT_TEST_BASE: JSON.stringify(makeData()) },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    while (!existsSync(join(dir, 'ready'))) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const rows = readCsv(join(dir, 'emissions.csv'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ run_id: 'on-signal', project_name: 'demo', wue: '1.8' });
    expect(Object.keys(rows[0]!)).toHaveLength(38);
  });
});
