import { closeSync, constants, lstatSync, openSync, readFileSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUuid } from '../builtins.js';
import { WattprintError } from '../errors.js';
import { onExit, processEnding } from '../exit-hooks.js';
import { ioError } from './file-io.js';

/** Tuning of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up (REPORTER_IO) after waiting this long for the lock. Default 20000. */
  readonly timeoutMs?: number;
  /**
   * A lock is abandoned when its file is older than this, or when this process has seen it
   * unchanged (same content and mtime) for this long, whatever its mtime says (a future mtime, an
   * empty file). Holders renew their lock while they work. Default 15000.
   */
  readonly staleMs?: number;
}

/** What the function run under the lock can do with it. */
export interface HeldLock {
  /** Refreshes the lock's mtime so that waiters do not judge a slow holder stale. */
  renew(): void;
  /** Throws REPORTER_IO when the lock was broken by another writer: do not commit then. */
  assertHeld(): void;
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

/** Blocks the thread: only for exit and signal handlers, where nothing else may run. */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** The lock as found, or undefined when absent; a symlink or non-file at the lock path is an error, never followed. */
function inspect(path: string): LockInfo | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) {
    throw new WattprintError('REPORTER_IO', `Lock file ${path} is not a regular file (a symlink?): wattprint does not follow it. Remove it if it is not yours.`);
  }
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return { content: readFileSync(fd, 'utf8'), mtimeMs: st.mtimeMs };
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function parseHolder(content: string): Holder {
  try {
    const v = JSON.parse(content) as Holder;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
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

/** When this process first saw each lock state: the bound that holds whatever the file's mtime says. */
const firstSeen = new Map<string, { key: string; atMs: number }>();

function unchangedForMs(lockPath: string, info: LockInfo): number {
  const key = `${info.mtimeMs}:${info.content}`;
  const seen = firstSeen.get(lockPath);
  if (seen?.key === key) return Date.now() - seen.atMs;
  if (firstSeen.size > 256) firstSeen.clear();
  firstSeen.set(lockPath, { key, atMs: Date.now() });
  return 0;
}

function isStale(lockPath: string, info: LockInfo, staleMs: number): boolean {
  if (Date.now() - info.mtimeMs > staleMs) return true;
  if (unchangedForMs(lockPath, info) > staleMs) return true;
  const h = parseHolder(info.content);
  return h.host === hostname() && typeof h.pid === 'number' && h.pid > 0 && !pidAlive(h.pid);
}

function describeHolder(info: LockInfo | undefined): string {
  if (info === undefined) return 'no longer present';
  const h = parseHolder(info.content);
  const ageS = ((Date.now() - info.mtimeMs) / 1000).toFixed(1);
  return h.pid !== undefined ? `held by pid ${h.pid} on ${h.host ?? '?'}, renewed ${ageS} s ago` : `created ${ageS} s ago`;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Removes an abandoned lock. Breakers serialise on `<lock>.break` and remove the lock only if it is
 * still the very file judged stale (same content, which holds a random token, and mtime), so a
 * breaker that lost the race never deletes a lock another process has just taken or renewed.
 */
function breakIfStale(lockPath: string, staleMs: number): boolean {
  const seen = inspect(lockPath);
  if (seen === undefined) return true;
  if (!isStale(lockPath, seen, staleMs)) return false;
  const breakPath = `${lockPath}.break`;
  try {
    closeSync(openSync(breakPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW));
  } catch {
    const b = inspect(breakPath);
    if (b !== undefined && isStale(breakPath, b, staleMs)) unlinkQuietly(breakPath);
    return false;
  }
  try {
    const again = inspect(lockPath);
    if (again !== undefined && again.content === seen.content && again.mtimeMs === seen.mtimeMs) unlinkSync(lockPath);
  } catch {
    // already gone
  } finally {
    unlinkQuietly(breakPath);
  }
  firstSeen.delete(lockPath);
  return true;
}

/** Tries once to create the lock file; false when another holder has it. */
function tryAcquire(lockPath: string, content: string): boolean {
  let fd: number;
  try {
    // O_EXCL fails on any existing entry, a symlink included: nothing is ever written through one.
    fd = openSync(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError('create lock file', lockPath, err);
  }
  try {
    writeSync(fd, content);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(lockPath);
    throw ioError('write lock file', lockPath, err);
  }
  closeSync(fd);
  return true;
}

function timeoutError(path: string, lockPath: string, timeoutMs: number): WattprintError {
  return new WattprintError(
    'REPORTER_IO',
    `Timed out after ${timeoutMs} ms waiting for lock file ${lockPath} (${describeHolder(inspect(lockPath))}). ` +
      `If no process is writing ${path}, delete the lock file.`,
  );
}

/** Thrown by {@link HeldLock.assertHeld}: the work is redone under a fresh lock, so no row is lost. */
class LockLost extends WattprintError {
  constructor(lockPath: string) {
    super('REPORTER_IO', `Lock file ${lockPath} was taken over by another writer while this one worked (held past staleMs); the change was not committed.`);
  }
}

const MAX_REDOS = 5;

function heldLock(lockPath: string, content: string): HeldLock {
  return {
    renew() {
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
      } catch {
        // assertHeld reports a lost lock before anything is committed
      }
    },
    assertHeld() {
      let now: LockInfo | undefined;
      try {
        now = inspect(lockPath);
      } catch {
        now = undefined;
      }
      if (now?.content !== content) throw new LockLost(lockPath);
    },
  };
}

function release(lockPath: string, content: string): void {
  // Leave the file alone if it is no longer ours (broken as stale after an extremely long hold).
  try {
    if (inspect(lockPath)?.content === content) unlinkSync(lockPath);
  } catch {
    // removed concurrently
  }
}

function lockContent(): string {
  return `${JSON.stringify({ pid: process.pid, host: hostname(), token: randomUuid(), since: new Date().toISOString() })}\n`;
}

function runHeld<T>(lockPath: string, content: string, fn: (lock: HeldLock) => T): T {
  try {
    return fn(heldLock(lockPath, content));
  } finally {
    release(lockPath, content);
  }
}

/**
 * Runs `fn` while holding `<path>.lock`, an exclusive lock file created with O_EXCL that records
 * the holder's pid, host and a random token. Synchronous: it blocks the thread while it waits, so
 * it is for exit and signal handlers; elsewhere use {@link withFileLockAsync}. Removes a lock whose
 * holder process is dead (same host) or that is stale (see {@link FileLockOptions.staleMs}).
 * Throws `WattprintError('REPORTER_IO')` on timeout or when the lock file cannot be created.
 */
export function withFileLock<T>(path: string, fn: (lock: HeldLock) => T, opts: FileLockOptions = {}): T {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const staleMs = opts.staleMs ?? 15000;
  const lockPath = `${path}.lock`;
  const content = lockContent();
  const deadline = Date.now() + timeoutMs;
  for (let redo = 0; ; redo++) {
    let waitMs = 1;
    while (!tryAcquire(lockPath, content)) {
      if (breakIfStale(lockPath, staleMs)) continue;
      if (Date.now() >= deadline) throw timeoutError(path, lockPath, timeoutMs);
      sleepSync(waitMs + Math.random() * waitMs);
      waitMs = Math.min(waitMs * 2, 25);
    }
    try {
      return runHeld(lockPath, content, fn);
    } catch (err) {
      if (!(err instanceof LockLost) || redo >= MAX_REDOS) throw err;
    }
  }
}

/** Work queued per file in this process, so that rows of one file land in the order they were reported. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` under `<path>.lock` without blocking the event loop: the lock is tried at once and,
 * when another writer holds it, retried with a randomised backoff on timers. Jobs for one file run
 * in call order. If the process ends while a job waits, the job completes synchronously in the
 * exit handler, so a row handed to a reporter is never lost. `fn` itself runs synchronously.
 */
export function withFileLockAsync<T>(path: string, fn: (lock: HeldLock) => T, opts: FileLockOptions = {}): Promise<T> {
  if (processEnding()) {
    try {
      return Promise.resolve(withFileLock(path, fn, opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const timeoutMs = opts.timeoutMs ?? 20000;
  const staleMs = opts.staleMs ?? 15000;
  const lockPath = `${path}.lock`;
  if (!queues.has(path)) {
    // Fast path: nothing queued and the lock free, so the write completes now, in this call.
    const content = lockContent();
    try {
      if (tryAcquire(lockPath, content)) return Promise.resolve(runHeld(lockPath, content, fn));
    } catch (err) {
      if (!(err instanceof LockLost)) return Promise.reject(err);
    }
  }
  let done = false;
  let result: { value: T } | undefined;
  // At exit the waiting job runs here, synchronously; the async attempt then finds it done.
  const removeHook = onExit(() => {
    if (done) return;
    done = true;
    try {
      result = { value: withFileLock(path, fn, opts) };
    } catch {
      // nowhere left to report it
    }
  });
  const attempt = async (): Promise<T> => {
    const content = lockContent();
    const deadline = Date.now() + timeoutMs;
    for (let redo = 0; ; redo++) {
      let waitMs = 1;
      for (;;) {
        if (done) return result!.value;
        if (tryAcquire(lockPath, content)) break;
        if (breakIfStale(lockPath, staleMs)) continue;
        if (Date.now() >= deadline) throw timeoutError(path, lockPath, timeoutMs);
        await sleep(waitMs + Math.random() * waitMs);
        waitMs = Math.min(waitMs * 2, 50);
      }
      try {
        const value = runHeld(lockPath, content, fn);
        done = true;
        return value;
      } catch (err) {
        if (!(err instanceof LockLost) || redo >= MAX_REDOS) {
          done = true;
          throw err;
        }
      }
    }
  };
  const prev = queues.get(path) ?? Promise.resolve();
  const job = prev.then(attempt, attempt).finally(() => {
    removeHook();
    if (queues.get(path) === tail) queues.delete(path);
  });
  const tail = job.catch(() => undefined);
  queues.set(path, tail);
  return job;
}
