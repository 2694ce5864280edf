import { describe, expect, it } from 'vitest';
import { trackEmissions } from '../../src/decorator.js';
import { InMemoryReporter } from '../../src/testing/index.js';

const opts = (out: InMemoryReporter) => ({ saveToFile: false, reporters: [out], handleSignals: false, native: false, forceCarbonIntensityGPerKWh: 100 });

describe('trackEmissions (TC39 standard decorators and plain wrapper)', () => {
  it('decorates sync and async methods, keeping this, results and thrown errors', async () => {
    const out = new InMemoryReporter();
    const boom = new Error('boom');
    class Model {
      factor = 3;
      @trackEmissions({ ...opts(out), projectName: 'sync' })
      scale(x: number) {
        return x * this.factor;
      }
      @trackEmissions(opts(out))
      async predict(x: number) {
        await new Promise((r) => setTimeout(r, 20));
        return { y: x * this.factor };
      }
      @trackEmissions(opts(out))
      async fail() {
        throw boom;
      }
    }
    const m = new Model();
    expect(m.scale(2)).toBe(6);
    const r = await m.predict(5);
    expect(r).toEqual({ y: 15 });
    await expect(m.fail()).rejects.toBe(boom);
    await new Promise((r) => setTimeout(r, 10));
    expect(out.rows).toHaveLength(3);
    expect(out.rows.map((x) => x.data.projectName)).toEqual(['sync', 'predict', 'fail']);
    const predictRow = out.rows[1]!.data;
    expect(predictRow.durationS).toBeGreaterThanOrEqual(0.015);
    expect(predictRow.cpuEnergyKWh).toBeGreaterThan(0);
    expect(predictRow.boundary.cpu.kind).toBe('estimated');
  });

  it('wraps plain functions and keeps their name and arity', async () => {
    const out = new InMemoryReporter();
    const err = new TypeError('bad');
    function add(a: number, b: number) {
      return a + b;
    }
    const tracked = trackEmissions(opts(out))(add);
    expect(tracked(2, 3)).toBe(5);
    expect(tracked.name).toBe('add');
    expect(tracked.length).toBe(2);
    const thrower = trackEmissions(opts(out))(() => {
      throw err;
    });
    expect(() => thrower()).toThrow(err);
    const asyncFn = trackEmissions(opts(out))(async (x: string) => x.toUpperCase());
    await expect(asyncFn('a')).resolves.toBe('A');
    await new Promise((r) => setTimeout(r, 10));
    expect(out.rows).toHaveLength(3);
  });

  it('validates options where the decorator is written', () => {
    expect(() => trackEmissions({ pue: -1 })(() => 1)).toThrow(/`pue`/);
  });
});

describe('trackEmissions({ tracker }) attributes calls to a running tracker', () => {
  it('emits a CallRecord per decorated call with the given name', async () => {
    const { EmissionsTracker } = await import('../../src/tracker.js');
    const { FakePowerSource, ManualClock } = await import('../../src/testing/index.js');
    const clock = new ManualClock();
    const tracker = new EmissionsTracker({
      sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 100, clock })], gpu: [], ram: [] },
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
      forceCarbonIntensityGPerKWh: 0,
      attribution: 'time',
    });
    class Handler {
      @trackEmissions({ tracker, name: 'generate', tokens: (r: unknown) => ({ outputTokens: (r as string).length }) })
      async generate(prompt: string) {
        clock.advance(500);
        return prompt.repeat(2);
      }
    }
    const records: Array<{ name: string; energyJ: number; outputTokens?: number }> = [];
    tracker.on('call', (c) => records.push(c));
    tracker.start();
    await expect(new Handler().generate('abc')).resolves.toBe('abcabc');
    clock.advance(500);
    await tracker.stop();
    expect(records).toHaveLength(1);
    expect(records[0]!.name).toBe('generate');
    expect(records[0]!.outputTokens).toBe(6);
    // 100 W for the 0.5 s the call was in flight; the other 0.5 s is idle.
    expect(records[0]!.energyJ).toBeCloseTo(50, 6);
  });
});

describe('many concurrent per-call trackers', () => {
  it('share one set of process listeners and remove it when done', async () => {
    const before = { int: process.listenerCount('SIGINT'), exit: process.listenerCount('exit') };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const out = new InMemoryReporter();
    const slow = trackEmissions({ saveToFile: false, reporters: [out], native: false, forceCarbonIntensityGPerKWh: 1 })(
      async (i: number) => {
        await new Promise((r) => setTimeout(r, 30));
        return i;
      },
    );
    const pending = Array.from({ length: 25 }, (_, i) => slow(i));
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(out.rows).toHaveLength(25);
    expect(process.listenerCount('SIGINT')).toBe(before.int);
    expect(process.listenerCount('exit')).toBe(before.exit);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
