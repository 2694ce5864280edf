/**
 * Class 3, a row is written whole or not at all (a real short write: RLIMIT_FSIZE set by prlimit
 * in a child), torn tails are rotated, rewrites keep mode and owner; class 5 (file part), a planted
 * symlink is an error, never a write into its target.
 */
import { describe, it, expect } from 'vitest';
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CSV_COLUMNS, csvReporter, formatCsvLine, jsonReporter, readCsv } from '../../src/reporters/index.js';
import { EmissionsTracker } from '../../src/tracker.js';
import type { WattprintWarning } from '../../src/types.js';
import type { WattprintError } from '../../src/errors.js';
import { makeData } from '../reporters/fixture.js';
import { QUIET_TRACKER, startScript, tempDir } from './helpers.js';

const STOP = { phase: 'stop', onCsvWrite: 'append' } as const;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const failure = (p: unknown) => Promise.resolve(p).then(() => undefined, (e: unknown) => e as WattprintError);

describe('whole rows', () => {
  it.runIf(hasPrlimit)('a short write at the file size limit is truncated back and reported', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const before = formatCsvLine(CSV_COLUMNS) + formatCsvLine(CSV_COLUMNS.map((c) => (c === 'run_id' ? 'earlier' : '1')));
    writeFileSync(file, before);
    const limit = Buffer.byteLength(before) + 100; // room for part of the next row only
    const { done } = startScript(
      `import { csvReporter } from './reporters.js';
const [dir, data] = process.argv.slice(2);
try {
  await csvReporter({ outputDir: dir }).report(JSON.parse(data), { phase: 'stop', onCsvWrite: 'append' });
  console.log('no error');
} catch (e) { console.log(e.code, e.message); }`,
      { args: [dir, JSON.stringify(makeData())], prefix: ['prlimit', `--fsize=${limit}`] },
    );
    const r = await done;
    expect(r.stdout).toContain('REPORTER_IO');
    expect(r.stdout).toContain('EFBIG');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a CSV whose last row is torn inside a quoted field is rotated with FILE_TORN, so the new row is readable', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const torn = formatCsvLine(CSV_COLUMNS) + formatCsvLine(CSV_COLUMNS.map(() => '1')) + '2026-01-01T00:00:00,"proj, with\ncut';
    writeFileSync(file, torn);
    const warnings: WattprintWarning[] = [];
    await csvReporter({ outputDir: dir, onWarning: (w) => warnings.push(w) }).report(makeData({ runId: 'after-tear' }), STOP);
    expect(readCsv(file).map((r) => r.run_id)).toEqual(['after-tear']);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(torn);
    expect(warnings.map((w) => w.code)).toEqual(['FILE_TORN']);
  });

  it('a JSON Lines file with a torn last line is rotated, so every line parses', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'emissions.jsonl'), '{"run_id":"a"}\n{"run_id":"b","emiss');
    const warnings: WattprintWarning[] = [];
    await jsonReporter({ outputDir: dir, onWarning: (w) => warnings.push(w) }).report(makeData({ runId: 'c' }), STOP);
    const lines = readFileSync(join(dir, 'emissions.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { run_id: string }).run_id)).toEqual(['c']);
    expect(warnings.map((w) => w.code)).toEqual(['FILE_TORN']);
  });

  it('an update-mode rewrite keeps the file mode (0600) and owner', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    const csv = csvReporter({ outputDir: dir, onCsvWrite: 'update' });
    await csv.report(makeData({ durationS: 1 }), STOP);
    chmodSync(file, 0o600);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(file, 65534, 65534);
    await csv.report(makeData({ durationS: 2 }), { phase: 'stop', onCsvWrite: 'update' });
    const st = statSync(file);
    expect(st.mode & 0o777).toBe(0o600);
    if (asRoot) expect([st.uid, st.gid]).toEqual([65534, 65534]);
    expect(readCsv(file).map((r) => r.duration)).toEqual(['2']);
  });
});

describe('planted symlinks', () => {
  for (const [name, reporter] of [
    ['emissions.csv', (dir: string) => csvReporter({ outputDir: dir })],
    ['emissions.jsonl', (dir: string) => jsonReporter({ outputDir: dir })],
    ['emissions.csv.lock', (dir: string) => csvReporter({ outputDir: dir })],
  ] as const) {
    it(`a symlink planted at ${name} is an error and its target is untouched`, async () => {
      const dir = tempDir();
      const target = join(tempDir(), 'bashrc');
      writeFileSync(target, 'echo hi\n');
      symlinkSync(target, join(dir, name));
      const err = await failure(reporter(dir).report(makeData(), STOP));
      expect(err?.code).toBe('REPORTER_IO');
      expect(err?.message).toMatch(/symlink/);
      expect(readFileSync(target, 'utf8')).toBe('echo hi\n');
    });
  }

  it('a symlink planted at the backup name is an error, never written through', async () => {
    const dir = tempDir();
    const target = join(tempDir(), 'bashrc');
    writeFileSync(target, 'echo hi\n');
    writeFileSync(join(dir, 'emissions.csv'), 'other,header\n1,2\n');
    symlinkSync(target, join(dir, 'emissions.csv.bak'));
    const err = await failure(csvReporter({ outputDir: dir }).report(makeData(), STOP));
    expect(err?.code).toBe('REPORTER_IO');
    expect(readFileSync(target, 'utf8')).toBe('echo hi\n');
    expect(readFileSync(join(dir, 'emissions.csv'), 'utf8')).toBe('other,header\n1,2\n');
  });

  it("the tracker turns a planted emissions.csv symlink into an 'error' event and keeps running", async () => {
    const dir = tempDir();
    const target = join(tempDir(), 'bashrc');
    writeFileSync(target, 'echo hi\n');
    symlinkSync(target, join(dir, 'emissions.csv'));
    const t = new EmissionsTracker({ ...(eval(`(${QUIET_TRACKER})`) as object), outputDir: dir, handleSignals: false });
    const errors: WattprintError[] = [];
    t.on('error', (e) => errors.push(e));
    t.start();
    await t.stop();
    expect(errors.map((e) => e.code)).toEqual(['REPORTER']);
    expect(readFileSync(target, 'utf8')).toBe('echo hi\n');
    expect(existsSync(join(dir, 'emissions.csv.lock'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['emissions.csv']);
  });
});
