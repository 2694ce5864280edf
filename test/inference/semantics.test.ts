import { afterEach, describe, expect, it } from 'vitest';
import type { AttributionRule } from '../../src/inference/index.js';
import { FakeHost, deferred } from './fake-host.js';

// What a wrapper must not change, under both rules (the 'work' rule runs calls under promise
// hooks): the value and error that reach the caller, `this`, and which promises Node reports as
// unhandled. Locks in the lean per-call path of src/inference/wrapping.ts.

const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Collects 'unhandledRejection' events, with the test runner's own listeners set aside meanwhile. */
function catchUnhandled() {
  const saved = process.listeners('unhandledRejection');
  const seen: Array<{ reason: unknown; promise: Promise<unknown> }> = [];
  const listener = (reason: unknown, promise: Promise<unknown>) => void seen.push({ reason, promise });
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', listener);
  const restore = () => {
    process.off('unhandledRejection', listener);
    for (const l of saved) process.on('unhandledRejection', l);
  };
  return { seen, restore };
}

let restoreUnhandled: (() => void) | undefined;
afterEach(() => {
  restoreUnhandled?.();
  restoreUnhandled = undefined;
});

describe.each<AttributionRule>(['work', 'time'])("wrapped calls keep the function's semantics (attribution '%s')", (attribution) => {
  const newHost = () => new FakeHost({ attribution }).start();

  it('passes this, every argument and the same result object through a sync call', () => {
    const host = newHost();
    const result = { id: 1 };
    const self = { k: 2 };
    let seen: unknown[] = [];
    const f = host.calls.wrap(function (this: unknown, ...args: unknown[]) {
      seen = [this, ...args];
      return result;
    }, { name: 'sync' });
    expect(f.call(self, 1, 'b', undefined, null)).toBe(result);
    expect(seen).toEqual([self, 1, 'b', undefined, null]);
    expect(seen[0]).toBe(self);
    host.tick(100);
    expect(host.records.map((r) => r.outcome)).toEqual(['ok']);
  });

  it('rethrows a sync throw (and a thrown non-Error) with the same identity', () => {
    const host = newHost();
    const boom = new RangeError('boom');
    const thrown = { notAnError: true };
    const f = host.calls.wrap((x: number) => {
      throw x === 0 ? boom : thrown;
    }, { name: 'throws' });
    expect(() => f(0)).toThrow(boom);
    let caught: unknown;
    try {
      f(1);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(thrown);
    host.tick(100);
    expect(host.records.map((r) => [r.outcome, r.error])).toEqual([['error', true], ['error', true]]);
  });

  it('resolves with the same value object and rejects with the same reason, whatever kind of promise fn returns', async () => {
    const host = newHost();
    const value = { v: 1 };
    const reason = new Error('no');
    const resolved = host.calls.wrap(async () => value, { name: 'a' });
    const rejected = host.calls.wrap(async () => {
      await turns(1);
      throw reason;
    }, { name: 'b' });
    const thenable = host.calls.wrap(() => ({ then: (ok: (v: unknown) => void) => ok(value) }), { name: 'c' });
    class SdkPromise<T> extends Promise<T> {}
    const subclass = host.calls.wrap(() => SdkPromise.resolve(value), { name: 'd' });
    const p = resolved();
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(value);
    await expect(rejected()).rejects.toBe(reason);
    expect(await thenable()).toBe(value);
    expect(await subclass()).toBe(value);
    host.tick(100);
    expect(host.records.map((r) => [r.name, r.outcome])).toEqual([['a', 'ok'], ['b', 'error'], ['c', 'ok'], ['d', 'ok']]);
  });

  it('an ignored rejection is reported unhandled exactly once, with its reason, on the promise the caller got', async () => {
    const host = newHost();
    const { seen, restore } = catchUnhandled();
    restoreUnhandled = restore;
    const reason = new Error('nobody listens');
    const f = host.calls.wrap(async (d: Promise<void>) => {
      await d;
      throw reason;
    }, { name: 'ignored' });
    const d = deferred();
    const returned = f(d.promise);
    d.resolve();
    await turns();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.reason).toBe(reason);
    expect(seen[0]!.promise).toBe(returned);
    host.tick(100);
    expect(host.records.map((r) => r.outcome)).toEqual(['error']);
  });

  it('a handled rejection and a rejection handled by the caller after an await are not reported', async () => {
    const host = newHost();
    const { seen, restore } = catchUnhandled();
    restoreUnhandled = restore;
    const reason = new Error('handled');
    const f = host.calls.wrap(async () => {
      await turns(1);
      throw reason;
    }, { name: 'handled' });
    await expect(f()).rejects.toBe(reason);
    let caught: unknown;
    try {
      await f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(reason);
    await turns();
    expect(seen).toEqual([]);
  });

  it('a rejection of the wrapped function is not reported unhandled when fn itself returned a handled promise', async () => {
    // The wrapper's own reaction handles fn's promise, and only the promise it returns may be
    // reported: a caller that handles it sees no report, even though fn's promise rejected.
    const host = newHost();
    const { seen, restore } = catchUnhandled();
    restoreUnhandled = restore;
    const f = host.calls.wrap(() => Promise.reject(new Error('inner')), { name: 'inner' });
    await f().catch(() => {});
    await turns();
    expect(seen).toEqual([]);
  });

  it('records stay exact for interleaved calls that end in another order than they began', async () => {
    const host = newHost();
    const f = host.calls.wrap(async (d: Promise<void>) => {
      await d;
    }, { name: 'x' });
    const ds = [deferred(), deferred(), deferred()];
    const ps = ds.map((d) => f(d.promise));
    host.advance(10);
    ds[1]!.resolve();
    await ps[1];
    host.advance(10);
    ds[2]!.resolve();
    await ps[2];
    host.advance(10);
    ds[0]!.resolve();
    await ps[0];
    host.tick(70);
    const durations = host.records.map((r) => Math.round(r.durationS * 1000)).sort((a, b) => a - b);
    expect(durations).toEqual([10, 20, 30]);
    const stats = host.calls.callStats('x');
    expect(stats.count).toBe(3);
    expect(stats.durationS).toBeCloseTo(0.06, 12);
    // Every joule of the interval went to a call, to idle or (work rule) to unattributed.
    const t = host.calls.attributionTotals();
    const parts = host.records.reduce((s, r) => s + r.energyJ, 0) + t.idleEnergyJ + (t.unattributedEnergyJ ?? 0);
    expect(parts).toBeCloseTo(t.energyJ, 9);
  });
});
