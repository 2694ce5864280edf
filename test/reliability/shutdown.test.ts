/**
 * Class 1, shutdown belongs to the application: real child processes, real signals.
 */
import { describe, it, expect } from 'vitest';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../../src/reporters/index.js';
import { QUIET_TRACKER, startScript, tempDir, waitForFile } from './helpers.js';

/** A tracker writing to argv[2]; `setup` is app code run before (`before`) or after the tracker starts. */
function app(setup: string, when: 'before' | 'after'): string {
  return `
import { writeFileSync } from 'node:fs';
import { EmissionsTracker } from './index.js';
const dir = process.argv[2];
const tracker = new EmissionsTracker({ ...${QUIET_TRACKER}, outputDir: dir });
${when === 'before' ? setup : ''}
tracker.start();
${when === 'after' ? setup : ''}
const keepAlive = setInterval(() => {}, 1000);
writeFileSync(dir + '/ready', '');
`;
}

const DRAIN = `
process.once('SIGTERM', async () => {
  await new Promise((r) => setTimeout(r, 150)); // draining connections
  await tracker.stop();
  writeFileSync(dir + '/drained', '');
  process.exit(0);
});`;

async function signalled(source: string, signal: NodeJS.Signals) {
  const dir = tempDir();
  const { child, done } = startScript(source, { args: [dir] });
  await waitForFile(join(dir, 'ready'));
  child.kill(signal);
  const r = await done;
  return { dir, ...r, rows: () => readCsv(join(dir, 'emissions.csv')) };
}

describe('shutdown belongs to the application', () => {
  for (const when of ['before', 'after'] as const) {
    it(`an app's once('SIGTERM') drain registered ${when} wattprint completes, with exactly one final row`, async () => {
      const r = await signalled(app(DRAIN, when), 'SIGTERM');
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(r.rows()).toHaveLength(1);
    });
  }

  it('an app that prepends its handler after wattprint still owns the signal', async () => {
    const r = await signalled(app(DRAIN.replace('process.once(', 'process.prependOnceListener('), 'after'), 'SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    expect(r.rows()).toHaveLength(1);
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`with no other handler, ${signal} writes the final row and the process dies of ${signal}`, async () => {
      const r = await signalled(app('', 'after'), signal);
      expect(r.signal).toBe(signal);
      expect(r.rows()).toHaveLength(1);
    });
  }

  it('an app that handles SIGINT keeps its exit code; the final row is written at exit', async () => {
    const setup = `process.on('SIGINT', () => { process.exitCode = 5; clearInterval(keepAlive); });`;
    const r = await signalled(app(setup, 'after').replace('const keepAlive', 'var keepAlive'), 'SIGINT');
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(5);
    expect(r.rows()).toHaveLength(1);
  });

  it('never changes process.exitCode at a natural exit', async () => {
    const dir = tempDir();
    const { done } = startScript(
      `import { EmissionsTracker } from './index.js';
const t = new EmissionsTracker({ ...${QUIET_TRACKER}, outputDir: process.argv[2] });
t.start();
process.exitCode = 3;`,
      { args: [dir] },
    );
    const r = await done;
    expect(r.code, r.stderr).toBe(3);
    expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1);
  });

  it("a stop() from the app's own 'exit' listener waits for a held lock and writes its row", async () => {
    const dir = tempDir();
    const { done } = startScript(
      `import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { EmissionsTracker } from './index.js';
const dir = process.argv[2];
const tracker = new EmissionsTracker({ ...${QUIET_TRACKER}, outputDir: dir, handleSignals: false });
tracker.start();
// Another live writer (the test runner) holds the lock until the test removes it.
writeFileSync(dir + '/emissions.csv.lock', JSON.stringify({ pid: process.ppid, host: hostname(), token: 'other' }));
process.on('exit', () => void tracker.stop());
writeFileSync(dir + '/ready', '');
setTimeout(() => process.exit(0), 50);`,
      { args: [dir] },
    );
    await waitForFile(join(dir, 'ready'));
    await new Promise((r) => setTimeout(r, 600));
    unlinkSync(join(dir, 'emissions.csv.lock'));
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1);
  });

  it("a worker thread's tracker writes its final row when the worker ends, by itself or by process.exit()", async () => {
    const dir = tempDir();
    const { done } = startScript(
      `import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { EmissionsTracker } from './index.js';
if (isMainThread) {
  for (const mode of ['natural', 'exit']) {
    const w = new Worker(new URL(import.meta.url), { workerData: { dir: process.argv[2] + '/' + mode, mode } });
    w.on('error', (e) => { console.error(e); process.exitCode = 1; });
  }
} else {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(workerData.dir);
  const t = new EmissionsTracker({ ...${QUIET_TRACKER}, outputDir: workerData.dir });
  t.start();
  setTimeout(() => { if (workerData.mode === 'exit') process.exit(0); }, 100);
}`,
      { args: [dir] },
    );
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(readCsv(join(dir, 'natural', 'emissions.csv'))).toHaveLength(1);
    expect(readCsv(join(dir, 'exit', 'emissions.csv'))).toHaveLength(1);
  });
});
