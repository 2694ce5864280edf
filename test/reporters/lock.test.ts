import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WattprintError } from '../../src/errors.js';
import { withFileLock } from '../../src/reporters/index.js';
import { tempDir } from './fixture.js';

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function lockContent(pid: number, host = hostname()): string {
  return `${JSON.stringify({ pid, host, token: 'other', since: new Date().toISOString() })}\n`;
}

describe('withFileLock', () => {
  it('holds <file>.lock with our pid while running and removes it after, also on throw', () => {
    const file = join(tempDir(), 'f.csv');
    const seen = withFileLock(file, () => JSON.parse(readFileSync(`${file}.lock`, 'utf8')) as { pid: number; host: string });
    expect(seen.pid).toBe(process.pid);
    expect(seen.host).toBe(hostname());
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(() =>
      withFileLock(file, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('breaks a lock left by a dead process on this host at once', () => {
    const file = join(tempDir(), 'f.csv');
    writeFileSync(`${file}.lock`, lockContent(deadPid()));
    // staleMs far above the lock's age: only the dead pid can explain the break before the timeout.
    expect(withFileLock(file, () => 42, { timeoutMs: 3000, staleMs: 600_000 })).toBe(42);
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(existsSync(`${file}.lock.break`)).toBe(false);
  });

  it('breaks a lock older than staleMs even when its pid is alive', () => {
    const file = join(tempDir(), 'f.csv');
    writeFileSync(`${file}.lock`, lockContent(process.ppid));
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    expect(withFileLock(file, () => 'ok', { timeoutMs: 2000, staleMs: 30_000 })).toBe('ok');
  });

  it('waits for a fresh lock of a live process, then times out with REPORTER_IO', () => {
    const file = join(tempDir(), 'f.csv');
    const held = lockContent(process.ppid);
    writeFileSync(`${file}.lock`, held);
    let err: unknown;
    try {
      withFileLock(file, () => 'never', { timeoutMs: 150, staleMs: 60_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WattprintError);
    expect((err as WattprintError).code).toBe('REPORTER_IO');
    expect((err as Error).message).toContain(`${file}.lock`);
    expect((err as Error).message).toContain(`pid ${process.ppid}`);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(held);
  });

  it('does not judge a lock from another host by its pid', () => {
    const file = join(tempDir(), 'f.csv');
    writeFileSync(`${file}.lock`, lockContent(deadPid(), `${hostname()}-elsewhere`));
    expect(() => withFileLock(file, () => 1, { timeoutMs: 100, staleMs: 60_000 })).toThrow(/Timed out/);
  });
});
