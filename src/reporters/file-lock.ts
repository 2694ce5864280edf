import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { WattprintError } from '../errors.js';
import { ioError } from './file-io.js';

/** Tuning of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up (REPORTER_IO) after waiting this long for the lock. Default 20000. */
  readonly timeoutMs?: number;
  /** A lock whose file is older than this is taken to be abandoned, even if its pid is alive (pid reuse, another host). Default 15000. */
  readonly staleMs?: number;
}

interface LockInfo {
  readonly content: string;
  readonly mtimeMs: number;
}

interface Holder {
  readonly pid?: number;
  readonly host?: string;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread; the lock is held for milliseconds and writers must stay synchronous (signal handlers, exit). */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function inspect(path: string): LockInfo | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    return { content: readFileSync(path, 'utf8'), mtimeMs };
  } catch {
    return undefined;
  }
}

function parseHolder(content: string): Holder {
  try {
    const v = JSON.parse(content) as Holder;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    // Empty while the holder is between creating and writing the file: judged by age only.
    return {};
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(info: LockInfo, staleMs: number): boolean {
  if (Date.now() - info.mtimeMs > staleMs) return true;
  const h = parseHolder(info.content);
  return h.host === hostname() && typeof h.pid === 'number' && h.pid > 0 && !pidAlive(h.pid);
}

function describeHolder(info: LockInfo | undefined): string {
  if (info === undefined) return 'no longer present';
  const h = parseHolder(info.content);
  const ageS = ((Date.now() - info.mtimeMs) / 1000).toFixed(1);
  return h.pid !== undefined ? `held by pid ${h.pid} on ${h.host ?? '?'} for ${ageS} s` : `created ${ageS} s ago`;
}

/**
 * Removes an abandoned lock. Breakers serialise on `<lock>.break` and remove the lock only if it is
 * still the very file judged stale (same content, which holds a random token), so a breaker that
 * lost the race never deletes a lock another process has just taken.
 */
function breakIfStale(lockPath: string, staleMs: number): boolean {
  const seen = inspect(lockPath);
  if (seen === undefined) return true;
  if (!isStale(seen, staleMs)) return false;
  const breakPath = `${lockPath}.break`;
  try {
    closeSync(openSync(breakPath, 'wx'));
  } catch {
    const b = inspect(breakPath);
    if (b !== undefined && Date.now() - b.mtimeMs > staleMs) {
      try {
        unlinkSync(breakPath);
      } catch {
        // another breaker removed it first
      }
    }
    return false;
  }
  try {
    const again = inspect(lockPath);
    if (again !== undefined && again.content === seen.content && again.mtimeMs === seen.mtimeMs) unlinkSync(lockPath);
  } catch {
    // already gone
  } finally {
    try {
      unlinkSync(breakPath);
    } catch {
      // nothing to clean
    }
  }
  return true;
}

/**
 * Runs `fn` while holding `<path>.lock`, an exclusive lock file created with O_EXCL that records
 * the holder's pid, host and a random token. Waits with a short randomised backoff; removes a lock
 * whose holder process is dead (same host) or whose file is older than `staleMs`. Synchronous, so
 * it also works inside exit and signal handlers. Throws `WattprintError('REPORTER_IO')` on timeout
 * or when the lock file cannot be created.
 */
export function withFileLock<T>(path: string, fn: () => T, opts: FileLockOptions = {}): T {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const staleMs = opts.staleMs ?? 15000;
  const lockPath = `${path}.lock`;
  const content = `${JSON.stringify({ pid: process.pid, host: hostname(), token: randomUUID(), since: new Date().toISOString() })}\n`;
  const deadline = Date.now() + timeoutMs;
  let waitMs = 1;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lockPath, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create lock file', lockPath, err);
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, content);
      } catch (err) {
        try {
          closeSync(fd);
          unlinkSync(lockPath);
        } catch {
          // best effort: a leftover empty lock is broken by age
        }
        throw ioError('write lock file', lockPath, err);
      }
      closeSync(fd);
      break;
    }
    if (breakIfStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new WattprintError(
        'REPORTER_IO',
        `Timed out after ${timeoutMs} ms waiting for lock file ${lockPath} (${describeHolder(inspect(lockPath))}). ` +
          `If no process is writing ${path}, delete the lock file.`,
      );
    }
    sleepSync(waitMs + Math.random() * waitMs);
    waitMs = Math.min(waitMs * 2, 25);
  }
  try {
    return fn();
  } finally {
    // Leave the file alone if it is no longer ours (broken as stale after an extremely long hold).
    const now = inspect(lockPath);
    if (now !== undefined && now.content === content) {
      try {
        unlinkSync(lockPath);
      } catch {
        // removed concurrently
      }
    }
  }
}
