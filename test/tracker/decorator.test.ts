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
