/**
 * Class 2, never block the event loop: a foreign or stuck lock costs a row's latency, never the
 * host's event loop; a lock is stale after a bounded time whatever its mtime says; a slow writer
 * whose lock is taken over redoes its change instead of overwriting another writer's row.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CSV_COLUMNS, csvReporter, formatCsvLine, readCsv } from '../../src/reporters/index.js';
import { makeData } from '../reporters/fixture.js';
import { startScript, tempDir, waitForFile } from './helpers.js';

const STOP = { phase: 'stop', onCsvWrite: 'append' } as const;

/** A lock held by a live process (our parent) on this host. */
const liveLock = () => `${JSON.stringify({ pid: process.ppid, host: hostname(), token: 'foreign', since: new Date().toISOString() })}\n`;

/** Longest gap between setImmediate turns while `work` is pending. */
async function longestStallMs(work: () => Promise<unknown>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  let on = true;
  const probe = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (on) setImmediate(probe);
  };
  setImmediate(probe);
  try {
    await work();
  } finally {
    on = false;
  }
  return worst;
}

describe('file lock', () => {
  it('waiting for a held lock does not stall the event loop, and the timeout rejects with REPORTER_IO', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'emissions.csv.lock'), liveLock());
    const csv = csvReporter({ outputDir: dir, lock: { timeoutMs: 400, staleMs: 60_000 } });
    let err: unknown;
    const stallMs = await longestStallMs(() => Promise.resolve(csv.report(makeData(), STOP)).catch((e: unknown) => (err = e)));
    expect((err as { code?: string }).code).toBe('REPORTER_IO');
    expect(String(err)).toContain(`pid ${process.ppid}`);
    // The synchronous wait stalled the loop for the whole 400 ms timeout.
    expect(stallMs).toBeLessThan(100);
  });

  for (const [name, content] of [
    ['a live pid', liveLock()],
    ['no content (empty file)', ''],
  ] as const) {
    it(`a lock with a future mtime and ${name} is stale after staleMs, not never`, async () => {
      const dir = tempDir();
      const lock = join(dir, 'emissions.csv.lock');
      writeFileSync(lock, content);
      const future = new Date(Date.now() + 3600_000);
      utimesSync(lock, future, future);
      const csv = csvReporter({ outputDir: dir, lock: { timeoutMs: 5000, staleMs: 300 } });
      const t0 = Date.now();
      await csv.report(makeData(), STOP);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1);
    });
  }

  it('a slow update whose lock is taken over is redone, so neither writer loses its row', async () => {
    const dir = tempDir();
    const file = join(dir, 'emissions.csv');
    // A large file makes the update (read, parse, rewrite) last far longer than staleMs.
    const base = makeData();
    const filler = Array.from({ length: 40_000 }, (_, k) => formatCsvLine(CSV_COLUMNS.map((c) => (c === 'run_id' ? `old-${k}` : '1')))).join('');
    writeFileSync(file, formatCsvLine(CSV_COLUMNS) + filler);
    const slow = startScript(
      `import { csvReporter } from './reporters.js';
import { writeFileSync, existsSync } from 'node:fs';
const [dir, data] = process.argv.slice(2);
const csv = csvReporter({ outputDir: dir, onCsvWrite: 'update', lock: { staleMs: 30 } });
const cell = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(dir + '/go')) Atomics.wait(cell, 0, 0, 2);
await csv.report({ ...JSON.parse(data), runId: 'slow-update' }, { phase: 'stop', onCsvWrite: 'update' });
`,
      { args: [dir, JSON.stringify(base)] },
    );
    writeFileSync(join(dir, 'go'), '');
    await waitForFile(`${file}.lock`, 5000);
    const fast = csvReporter({ outputDir: dir, lock: { staleMs: 30, timeoutMs: 10_000 } });
    await fast.report({ ...base, runId: 'fast-append' }, STOP);
    const r = await slow.done;
    expect(r.code, r.stderr).toBe(0);
    const ids = readCsv(file).map((x) => x.run_id);
    expect(ids).toHaveLength(40_002);
    expect(ids).toContain('fast-append');
    expect(ids).toContain('slow-update');
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });
});
