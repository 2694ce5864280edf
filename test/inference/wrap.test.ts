import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WattprintError } from '../../src/errors.js';
import { FakeHost, deferred } from './fake-host.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('wrap: sync and async functions', () => {
  it('passes this, arguments and the result through, and keeps name and length', () => {
    const host = new FakeHost().start();
    const result = { big: 'object' };
    const obj = {
      factor: 3,
      compute(a: number, b: number) {
        host.advance(10);
        return { sum: (a + b) * this.factor, result };
      },
    };
    const wrapped = host.calls.wrap(obj.compute, { name: 'compute' });
    obj.compute = wrapped;
    const out = obj.compute(1, 2);
    expect(out.sum).toBe(9);
    expect(out.result).toBe(result);
    expect(wrapped.name).toBe('compute');
    expect(wrapped.length).toBe(2);
    host.tick(90);
    expect(host.records).toHaveLength(1);
    expect(host.records[0]!.durationS).toBeCloseTo(0.01, 12);
    expect(host.records[0]!.energyJ).toBeCloseTo(1, 9); // 100 W × 10 ms
  });

  it('rethrows a sync throw with the same identity and records error: true', () => {
    const host = new FakeHost().start();
    const boom = new TypeError('boom');
    const f = host.calls.wrap(() => {
      host.advance(5);
      throw boom;
    }, { name: 'bad' });
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(boom);
    host.tick(95);
    expect(host.records[0]).toMatchObject({ name: 'bad', error: true, outcome: 'error' });
    expect(host.records[0]!.energyJ).toBeCloseTo(0.5, 9);
    expect(host.calls.callStats('bad')).toMatchObject({ count: 1, errors: 1 });
  });

  it('measures an async function until its promise settles, and passes value and rejection through', async () => {
    const host = new FakeHost().start();
    const value = { answer: 42 };
    const err = new Error('nope');
    const ok = host.calls.wrap(async (d: Promise<void>) => {
      await d;
      return value;
    }, { name: 'ok' });
    const bad = host.calls.wrap(async (d: Promise<void>) => {
      await d;
      throw err;
    }, { name: 'bad' });
    const d1 = deferred();
    const d2 = deferred();
    const p1 = ok(d1.promise);
    const p2 = bad(d2.promise);
    expect(p1).toBeInstanceOf(Promise);
    host.advance(30);
    d1.resolve();
    expect(await p1).toBe(value);
    host.advance(30);
    d2.resolve();
    await expect(p2).rejects.toBe(err);
    host.tick(40);
    const [r1, r2] = host.records;
    expect(r1).toMatchObject({ name: 'ok', error: false });
    expect(r2).toMatchObject({ name: 'bad', error: true, outcome: 'error' });
    expect(r1!.durationS).toBeCloseTo(0.03, 12);
    expect(r2!.durationS).toBeCloseTo(0.06, 12);
    // One 100 ms interval of 10 J, busy for 60 ms → 6 J to calls, split by time in it: 30 vs 60 ms.
    expect(r1!.energyJ).toBeCloseTo(2, 9);
    expect(r2!.energyJ).toBeCloseTo(4, 9);
  });

  it('follows non-native thenables (SDK promise subclasses)', async () => {
    const host = new FakeHost().start();
    class ApiPromise<T> extends Promise<T> {}
    const f = host.calls.wrap(() => new ApiPromise<string>((r) => setImmediate(() => r('done'))), { name: 'sdk' });
    expect(await f()).toBe('done');
    host.tick(100);
    expect(host.records).toHaveLength(1);
  });

  it('counts tokens from the result and the arguments; a throwing callback only warns', async () => {
    const host = new FakeHost().start();
    const f = host.calls.wrap(async (prompt: string) => {
      host.advance(100);
      return { text: 'x'.repeat(20), usage: { out: 20 } };
    }, { name: 'gen', tokens: (res, [prompt]) => ({ inputTokens: prompt.length, outputTokens: res.usage.out }) });
    const g = host.calls.wrap(() => 1, {
      name: 'broken',
      tokens: () => {
        throw new Error('bad counter');
      },
    });
    await f('hello');
    g();
    host.tick(0);
    const r = host.records.find((x) => x.name === 'gen')!;
    expect(r.inputTokens).toBe(5);
    expect(r.outputTokens).toBe(20);
    expect(r.energyPerOutputTokenJ).toBeCloseTo(r.energyJ / 20, 12);
    expect(r.energyJ).toBeCloseTo(10, 9);
    const b = host.records.find((x) => x.name === 'broken')!;
    expect(b.outputTokens).toBeUndefined();
    expect(host.warnings.map((w) => w.code)).toContain('TOKENS_CALLBACK');
  });

  it('does not measure calls while the tracker is not running, and warns once', () => {
    const host = new FakeHost();
    const f = host.calls.wrap((x: number) => x * 2, { name: 'idle' });
    expect(f(2)).toBe(4);
    expect(f(3)).toBe(6);
    expect(host.warnings.filter((w) => w.code === 'CALL_NOT_TRACKED')).toHaveLength(1);
    expect(host.calls.callStats().count).toBe(0);
  });

  it('validates its options with WattprintError naming the option', () => {
    const host = new FakeHost();
    expect(() => host.calls.wrap(() => 1, { name: '' })).toThrow(WattprintError);
    expect(() => host.calls.wrap(() => 1, { name: 'x', tokens: 5 as never })).toThrow(/tokens/);
    expect(() => host.calls.wrap(42 as never, { name: 'x' })).toThrow(/function/);
    expect(() => host.calls.withLabels({ a: {} as never }, () => 1)).toThrow(/label 'a'/);
  });

  it('supports new on a wrapped constructor without measuring it', () => {
    const host = new FakeHost().start();
    class Model {
      constructor(readonly size: number) {}
    }
    const Wrapped = host.calls.wrap(Model as unknown as (n: number) => Model, { name: 'ctor' }) as unknown as typeof Model;
    const m = new Wrapped(7);
    expect(m).toBeInstanceOf(Model);
    expect(m.size).toBe(7);
  });

  it('passes `this` through when the wrapper is stored and called as a method', async () => {
    const host = new FakeHost().start();
    class Client {
      constructor(readonly k: number) {}
      add(x: number): number {
        return x + this.k;
      }
      async later(x: number): Promise<number> {
        await null;
        return x * this.k;
      }
    }
    const c = new Client(10);
    c.add = host.calls.wrap(c.add, { name: 'add' });
    Client.prototype.later = host.calls.wrap(Client.prototype.later, { name: 'later' });
    expect(c.add(2)).toBe(12);
    expect(await new Client(3).later(5)).toBe(15);
    // The documented way for a detached method: bind it.
    const bound = host.calls.wrap(Client.prototype.add.bind(c), { name: 'bound' });
    expect(bound(1)).toBe(11);
    host.tick(100);
    expect(host.records.map((r) => r.name).sort()).toEqual(['add', 'bound', 'later']);
  });
});

describe('listeners and lifecycle', () => {
  it('a call listener that runs wrapped calls and one that throws break nothing', () => {
    const host = new FakeHost().start();
    const inner = host.calls.wrap(() => host.advance(1), { name: 'inner' });
    let nested = 0;
    host.on('call', (r: { name: string }) => {
      if (r.name === 'outer' && nested++ < 3) inner();
    });
    host.on('call', () => {
      throw new Error('listener bug');
    });
    const outer = host.calls.wrap(() => host.advance(60), { name: 'outer' });
    for (let i = 0; i < 5; i++) expect(outer()).toBeUndefined();
    host.tick(100);
    host.tick(100);
    expect(host.calls.callStats('outer').count).toBe(5);
    expect(host.calls.callStats('inner').count).toBe(3);
    expect(host.errors.length).toBeGreaterThan(0);
    const totals = host.calls.attributionTotals();
    const callsJ = host.calls.callStats().energyJ;
    expect(Math.abs(callsJ + totals.idleEnergyJ - totals.energyJ)).toBeLessThan(1e-9 * totals.energyJ);
  });

  it('measures one run: after stop wrapped functions pass through unmeasured, and start() again does nothing', () => {
    const host = new FakeHost().start();
    const f = host.calls.wrap((x: number) => {
      host.advance(100);
      return x * 2;
    }, { name: 'f' });
    expect(f(1)).toBe(2);
    host.stop();
    expect(host.calls.callStats('f').count).toBe(1);
    host.calls.start(); // the tracker never restarts its call tracker; a new run is a new tracker
    expect(host.calls.isRunning).toBe(false);
    expect(f(2)).toBe(4);
    expect(host.calls.callStats('f').count).toBe(1);
    expect(host.warnings.map((w) => w.code)).toContain('CALL_NOT_TRACKED');
  });
});

describe('wrap: streams', () => {
  it('measures an async generator until it ends and counts chunks as output tokens', async () => {
    const host = new FakeHost().start();
    const gen = host.calls.wrap(async function* (n: number) {
      for (let i = 0; i < n; i++) {
        host.advance(50);
        yield `tok${i}`;
      }
    }, { name: 'stream', streamTokens: 'chunks' });
    const out: string[] = [];
    for await (const t of gen(6)) out.push(t);
    expect(out).toEqual(['tok0', 'tok1', 'tok2', 'tok3', 'tok4', 'tok5']);
    host.tick(0);
    const r = host.records[0]!;
    expect(r.stream).toBe(true);
    expect(r.chunks).toBe(6);
    expect(r.outputTokens).toBe(6);
    expect(r.durationS).toBeCloseTo(0.3, 12);
    expect(r.energyJ).toBeCloseTo(30, 9);
    expect(r.energyPerOutputTokenJ).toBeCloseTo(5, 9);
  });

  it('ends an abandoned stream when the consumer breaks out, after the generator’s finally', async () => {
    const host = new FakeHost().start();
    let cleaned = false;
    const gen = host.calls.wrap(async function* () {
      try {
        for (;;) {
          host.advance(10);
          yield 1;
        }
      } finally {
        host.advance(5);
        cleaned = true;
      }
    }, { name: 'endless', streamTokens: (s) => ({ outputTokens: s.chunks! * 2 }) });
    let n = 0;
    for await (const _ of gen()) if (++n === 4) break;
    expect(cleaned).toBe(true);
    host.tick(0);
    const r = host.records[0]!;
    expect(r).toMatchObject({ outcome: 'abandoned', error: false, chunks: 4, outputTokens: 8 });
    expect(r.durationS).toBeCloseTo(0.045, 12);
  });

  it('records a stream that throws as an error and passes the error through', async () => {
    const host = new FakeHost().start();
    const err = new Error('mid-stream');
    const gen = host.calls.wrap(async function* () {
      yield 1;
      host.advance(20);
      throw err;
    }, { name: 'failing' });
    const it0 = gen();
    expect(await it0.next()).toEqual({ value: 1, done: false });
    await expect(it0.next()).rejects.toBe(err);
    host.tick(80);
    expect(host.records[0]).toMatchObject({ outcome: 'error', error: true, chunks: 1 });
  });

  it('follows a promise that resolves to a stream (SDK style), with the last chunk for usage', async () => {
    const host = new FakeHost().start();
    class SdkStream {
      #chunks: Array<{ delta: string; usage?: { prompt: number; completion: number } }>;
      readonly controller = { aborted: false };
      constructor(chunks: SdkStream['chunks']) {
        this.#chunks = chunks;
      }
      get chunks() {
        return this.#chunks;
      }
      toText() {
        return this.#chunks.map((c) => c.delta).join('');
      }
      async *[Symbol.asyncIterator]() {
        for (const c of this.#chunks) {
          host.advance(100);
          yield c;
        }
      }
    }
    const create = host.calls.wrap(async () => {
      host.advance(100); // time to first byte
      return new SdkStream([{ delta: 'Hel' }, { delta: 'lo', usage: { prompt: 7, completion: 2 } }]);
    }, {
      name: 'chat',
      streamTokens: (s) => {
        const u = (s.lastChunk as { usage?: { prompt: number; completion: number } }).usage!;
        return { inputTokens: u.prompt, outputTokens: u.completion };
      },
    });
    const stream = await create();
    expect(stream).toBeInstanceOf(SdkStream);
    expect(stream.toText()).toBe('Hello'); // private fields still reachable through the view
    expect(stream.controller.aborted).toBe(false);
    host.tick(0); // the call is still in flight: nothing recorded
    expect(host.records).toHaveLength(0);
    const deltas: string[] = [];
    for await (const c of stream) deltas.push(c.delta);
    expect(deltas).toEqual(['Hel', 'lo']);
    host.tick(0);
    const r = host.records[0]!;
    expect(r.durationS).toBeCloseTo(0.3, 12);
    expect(r).toMatchObject({ inputTokens: 7, outputTokens: 2, stream: true });
  });

  it('returns Node.js streams untouched and ends the call when they end', async () => {
    const host = new FakeHost().start();
    const readable = Readable.from(['a', 'b', 'c']);
    const f = host.calls.wrap(() => readable, { name: 'node-stream' });
    const s = f();
    expect(s).toBe(readable);
    host.advance(70);
    const chunks: string[] = [];
    for await (const c of s) chunks.push(c as string);
    await tick();
    host.tick(30);
    expect(chunks).toEqual(['a', 'b', 'c']);
    expect(host.records[0]).toMatchObject({ name: 'node-stream', outcome: 'ok', stream: true });
    expect(host.records[0]!.durationS).toBeCloseTo(0.07, 12);
  });

  it('with stream: false returns the iterable itself and ends the call on return', () => {
    const host = new FakeHost().start();
    const iterable = { async *[Symbol.asyncIterator]() {} };
    const f = host.calls.wrap(() => iterable, { name: 'plain', stream: false });
    expect(f()).toBe(iterable);
    host.tick(100);
    expect(host.records[0]!.stream).toBe(false);
  });

  it('direct next() calls on the returned generator are observed too', async () => {
    const host = new FakeHost().start();
    const gen = host.calls.wrap(async function* () {
      yield 'a';
      host.advance(10);
    }, { name: 'manual' });
    const g = gen();
    expect(await g.next()).toEqual({ value: 'a', done: false });
    expect(await g.next()).toEqual({ value: undefined, done: true });
    host.tick(90);
    expect(host.records[0]).toMatchObject({ outcome: 'ok', chunks: 1 });
    expect(host.records[0]!.durationS).toBeCloseTo(0.01, 12);
  });

  it('truncates calls still in flight at stop, once, with energy up to the stop', async () => {
    const host = new FakeHost().start();
    const d = deferred();
    const f = host.calls.wrap(() => d.promise, { name: 'slow' });
    const p = f();
    host.advance(250);
    host.stop();
    expect(host.records).toHaveLength(1);
    expect(host.records[0]).toMatchObject({ outcome: 'truncated', error: false });
    expect(host.records[0]!.energyJ).toBeCloseTo(25, 9);
    d.resolve();
    await p;
    expect(host.records).toHaveLength(1);
    expect(host.calls.callStats()).toMatchObject({ count: 1, truncated: 1 });
  });
});

describe('labels', () => {
  it('propagate across awaits, nest with inner values winning, and stay isolated between contexts', async () => {
    const host = new FakeHost().start();
    const op = host.calls.wrap(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
    }, { name: 'op' });
    await Promise.all([
      host.calls.withLabels({ model: 'a', tenant: 't1' }, async () => {
        await tick();
        await op(2);
        await host.calls.withLabels({ model: 'a-small', route: '/v1' }, async () => {
          await tick();
          await op(1);
        });
      }),
      host.calls.withLabels({ model: 'b' }, async () => {
        await op(3);
      }),
    ]);
    await op(0);
    host.tick(100);
    const labels = host.records.map((r) => r.labels);
    expect(labels).toContainEqual({ model: 'a', tenant: 't1' });
    expect(labels).toContainEqual({ model: 'a-small', tenant: 't1', route: '/v1' });
    expect(labels).toContainEqual({ model: 'b' });
    expect(labels).toContainEqual({});
    expect(Object.isFrozen(host.records[0]!.labels)).toBe(true);
  });

  it('returns what the function returns, sync or async', async () => {
    const host = new FakeHost();
    expect(host.calls.withLabels({ a: 1 }, () => 'sync')).toBe('sync');
    await expect(host.calls.withLabels({ a: 1 }, async () => 'async')).resolves.toBe('async');
  });
});
