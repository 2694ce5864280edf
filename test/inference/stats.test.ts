import { describe, expect, it } from 'vitest';
import { LogHistogram } from '../../src/inference/index.js';
import { FakeHost } from './fake-host.js';

function lcg(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
}

describe('LogHistogram', () => {
  it('answers quantiles within the documented relative error on random data', () => {
    const rand = lcg(7);
    for (const gen of [
      () => Math.exp(Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()) * 2), // log-normal
      () => rand() * 1000, // uniform
      () => -Math.log(rand()) * 0.003, // exponential, small values
    ]) {
      const h = new LogHistogram();
      const values: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        const v = gen();
        values.push(v);
        h.add(v);
      }
      values.sort((a, b) => a - b);
      for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]) {
        const exact = values[Math.floor(q * (values.length - 1))]!;
        const est = h.quantile(q)!;
        expect(Math.abs(est - exact) / exact).toBeLessThanOrEqual(LogHistogram.RELATIVE_ERROR + 1e-12);
      }
    }
  });

  it('counts zeros exactly, clamps to the range and is empty-safe', () => {
    const h = new LogHistogram();
    expect(h.quantile(0.5)).toBeUndefined();
    h.add(0);
    h.add(0);
    h.add(5);
    expect(h.quantile(0.5)).toBe(0);
    expect(h.quantile(1)).toBeCloseTo(5, 1);
    const big = new LogHistogram();
    big.add(1e15);
    expect(big.quantile(0.5)).toBe(1e15); // clamped to max observed
  });
});

describe('callStats', () => {
  it('reports counts, totals, mean/p50/p95, energy per output token and requests per kWh', () => {
    const host = new FakeHost().start();
    // 100 back-to-back calls of 1..100 ms at 100 W: call i gets exactly 0.1·i J; i tokens each.
    let ms = 0;
    const f = host.calls.wrap(() => host.advance(ms), { name: 'gen', tokens: () => ({ inputTokens: 3, outputTokens: ms }) });
    const g = host.calls.wrap(() => {
      throw new Error('x');
    }, { name: 'bad' });
    const order = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1); // a permutation
    for (const d of order) {
      ms = d;
      f();
    }
    try {
      g();
    } catch {}
    host.sampleNow();
    const s = host.calls.callStats('gen');
    expect(s.count).toBe(100);
    expect(s.errors).toBe(0);
    expect(s.energyJ).toBeCloseTo(505, 9);
    expect(s.meanEnergyJ).toBeCloseTo(5.05, 9);
    expect(Math.abs(s.p50EnergyJ! - 5.0) / 5.0).toBeLessThanOrEqual(0.01);
    expect(Math.abs(s.p95EnergyJ! - 9.5) / 9.5).toBeLessThanOrEqual(0.01);
    expect(s.meanDurationS).toBeCloseTo(0.0505, 12);
    expect(Math.abs(s.p95DurationS! - 0.095) / 0.095).toBeLessThanOrEqual(0.01);
    expect(s.outputTokens).toBe(5050);
    expect(s.inputTokens).toBe(300);
    expect(s.energyPerOutputTokenJ).toBeCloseTo(0.1, 12);
    expect(s.requestsPerKWh).toBeCloseTo(100 / (505 / 3.6e6), 3);
    expect(s.gpuEnergyJ / s.energyJ).toBeCloseTo(0.7, 12);
    const all = host.calls.callStats();
    expect(all.count).toBe(101);
    expect(all.errors).toBe(1);
    expect(all.name).toBeUndefined();
    expect(host.calls.callStats('bad')).toMatchObject({ count: 1, errors: 1 });
    expect(host.calls.callStats('never')).toMatchObject({ name: 'never', count: 0, energyJ: 0 });
    expect(host.calls.callStats('never').meanEnergyJ).toBeUndefined();
    expect(host.calls.callNames()).toEqual(['gen', 'bad']);
  });

  it('keeps memory flat: no per-call state survives its interval over 200,000 calls', () => {
    const host = new FakeHost().start();
    host.off('call'); // stats only, as in production without a 'call' listener
    const f = host.calls.wrap((x: number) => {
      host.advance(0.01);
      return x;
    }, { name: 'tight' });
    const internals = host.calls as unknown as { pending: { n: number }; inFlightCount: number };
    let maxPending = 0;
    for (let i = 0; i < 200_000; i++) {
      f(i);
      if (internals.pending.n > maxPending) maxPending = internals.pending.n;
    }
    expect(maxPending).toBeLessThanOrEqual(10_001); // one 100 ms interval of 10 µs calls
    expect(internals.inFlightCount).toBe(0);
    host.sampleNow();
    expect(internals.pending.n).toBe(0);
    const s = host.calls.callStats('tight');
    expect(s.count).toBe(200_000);
    expect(s.energyJ).toBeCloseTo(100 * 2, 6); // 2 s of back-to-back calls at 100 W
  });
});
