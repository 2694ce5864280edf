import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/inference/index.js';
import type { Measurement } from '../../src/types.js';
import { FakeHost, deferred, rel } from './fake-host.js';

type Op = (d: { promise: Promise<void> }) => Promise<void>;
const asyncOp = (host: FakeHost, name = 'op'): Op => host.calls.wrap((d: { promise: Promise<void> }) => d.promise, { name });

/** Starts a call now; `end()` settles it at the host's current time. */
function startCall(op: Op) {
  const d = deferred();
  const p = op(d);
  return {
    async end() {
      d.resolve();
      await p;
    },
  };
}

const byName = (records: CallRecord[], name: string) => records.filter((r) => r.name === name);

/**
 * Reference attribution, written from the definition: for each measured interval, the energy times
 * the fraction of the interval covered by the union of calls goes to calls, split by time.
 */
function reference(measurements: Measurement[], calls: Array<{ id: number; s: number; e: number }>) {
  const energy = new Map<number, number>();
  let idle = 0;
  for (const m of measurements) {
    const parts = calls
      .map((c) => ({ id: c.id, a: Math.max(c.s, m.startMs), b: Math.min(c.e, m.endMs) }))
      .filter((p) => p.b > p.a)
      .sort((x, y) => x.a - y.a);
    let union = 0;
    let curA = -Infinity;
    let curB = -Infinity;
    for (const p of parts) {
      if (p.a > curB) {
        if (curB > curA) union += curB - curA;
        curA = p.a;
        curB = p.b;
      } else curB = Math.max(curB, p.b);
    }
    if (curB > curA) union += curB - curA;
    const sum = parts.reduce((a, p) => a + (p.b - p.a), 0);
    const L = m.endMs - m.startMs;
    const toCalls = sum > 0 && L > 0 ? (m.energyJ * union) / L : 0;
    idle += m.energyJ - toCalls;
    for (const p of parts) energy.set(p.id, (energy.get(p.id) ?? 0) + (toCalls * (p.b - p.a)) / sum);
  }
  return { energy, idle };
}

describe('per-call attribution', () => {
  it('gives a lone call the busy fraction of the interval, per component, and the rest to idle', async () => {
    const host = new FakeHost().start();
    const op = asyncOp(host);
    host.advance(20);
    const a = startCall(op);
    host.advance(50);
    await a.end();
    expect(host.records).toHaveLength(0); // not final until its interval is sampled
    host.tick(30);
    expect(host.records).toHaveLength(1);
    const r = host.records[0]!;
    // 100 W for 100 ms = 10 J; the call covered 50 of the 100 ms.
    expect(r.energyJ).toBeCloseTo(5, 12);
    expect(r.cpuEnergyJ).toBeCloseTo(1, 12);
    expect(r.gpuEnergyJ).toBeCloseTo(3.5, 12);
    expect(r.ramEnergyJ).toBeCloseTo(0.5, 12);
    expect(r.durationS).toBeCloseTo(0.05, 12);
    expect(r.emissionsKg).toBeCloseTo((5 * 400) / 3.6e9, 20);
    expect(r.error).toBe(false);
    expect(r.outcome).toBe('ok');
    expect(host.calls.callStats().idleEnergyJ).toBeCloseTo(5, 12);
  });

  it('splits shared intervals in proportion to each call’s time (aligned case: 25 J vs 5 J)', async () => {
    const host = new FakeHost().start();
    const op = asyncOp(host);
    const a = host.calls.withLabels({ call: 'A' }, () => startCall(op));
    host.tick(100);
    const b = host.calls.withLabels({ call: 'B' }, () => startCall(op));
    host.tick(100);
    await b.end();
    host.advance(100);
    await a.end(); // 100 ms since the last sample: the end samples synchronously
    expect(host.measurements).toHaveLength(3);
    const A = host.records.find((r) => r.labels.call === 'A')!;
    const B = host.records.find((r) => r.labels.call === 'B')!;
    expect(A.energyJ).toBeCloseTo(25, 9);
    expect(B.energyJ).toBeCloseTo(5, 9);
    expect(host.calls.callStats().idleEnergyJ).toBeCloseTo(0, 9);
  });

  it('matches a hand-computed case with unaligned calls and power changing per interval', async () => {
    const host = new FakeHost().start();
    const ops = { A: asyncOp(host, 'A'), B: asyncOp(host, 'B'), C: asyncOp(host, 'C') };
    const t0 = host.t;
    const at = (ms: number) => (host.t = t0 + ms);
    host.setPower(20, 70, 10); // 100 W in [0,100]
    at(10);
    const a = startCall(ops.A);
    at(50);
    const b = startCall(ops.B);
    at(100);
    host.sampleNow();
    host.setPower(40, 140, 20); // 200 W in [100,200]
    at(120);
    await b.end();
    at(130);
    const c = startCall(ops.C);
    at(200);
    host.sampleNow();
    host.setPower(10, 35, 5); // 50 W in [200,300]
    at(250);
    await a.end();
    at(290);
    await c.end();
    at(300);
    host.sampleNow();
    const e = (n: string) => byName(host.records, n)[0]!.energyJ;
    // [0,100]: 10 J, busy 90 ms → 9 J; A 90 ms, B 50 ms of 140.
    // [100,200]: 20 J, busy 100 ms → 20 J; A 100, B 20, C 70 of 190.
    // [200,300]: 5 J, busy 90 ms → 4.5 J; A 50, C 90 of 140.
    const A = (9 * 90) / 140 + (20 * 100) / 190 + (4.5 * 50) / 140;
    const B = (9 * 50) / 140 + (20 * 20) / 190;
    const C = (20 * 70) / 190 + (4.5 * 90) / 140;
    expect(rel(e('A'), A)).toBeLessThan(1e-3);
    expect(rel(e('B'), B)).toBeLessThan(1e-3);
    expect(rel(e('C'), C)).toBeLessThan(1e-3);
    expect(e('A')).toBeCloseTo(17.919173, 5);
    expect(host.calls.callStats().idleEnergyJ).toBeCloseTo(1.5, 9);
    // Emissions follow energy at each interval's intensity (constant here).
    expect(byName(host.records, 'A')[0]!.emissionsKg).toBeCloseTo((A * 400) / 3.6e9, 18);
    // GPU share of B's energy is the GPU share of the intervals it ran in (70 %).
    expect(byName(host.records, 'B')[0]!.gpuEnergyJ / B).toBeCloseTo(0.7, 9);
  });

  it('weights emissions by the intensity of each interval', async () => {
    const host = new FakeHost().start();
    const op = asyncOp(host);
    const a = startCall(op);
    host.intensityGPerKWh = 100;
    host.tick(100);
    host.intensityGPerKWh = 700;
    host.advance(100);
    await a.end();
    const r = host.records[0]!;
    expect(r.energyJ).toBeCloseTo(20, 9);
    expect(r.emissionsKg).toBeCloseTo((10 * 100 + 10 * 700) / 3.6e9, 18);
  });

  it('conserves energy exactly and agrees with the reference on random concurrent traffic', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const host = new FakeHost().start();
    const ops = [asyncOp(host, 'x'), asyncOp(host, 'y'), asyncOp(host, 'z')];
    const t0 = host.t;
    type Ev = { t: number; kind: 'start' | 'end' | 'tick'; id: number };
    const events: Ev[] = [];
    const N = 150;
    for (let id = 0; id < N; id++) {
      const s = Math.round(rand() * 5000 * 100) / 100;
      const d = Math.round(rand() * rand() * 800 * 100) / 100;
      events.push({ t: s, kind: 'start', id }, { t: s + d, kind: 'end', id });
    }
    for (let t = 0; t < 6000; t += 30 + rand() * 90) events.push({ t, kind: 'tick', id: -1 });
    events.sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1));
    const open = new Map<number, ReturnType<typeof startCall>>();
    const spans = new Map<number, { id: number; s: number; e: number }>();
    const idOf = new Map<string, number>();
    let powerStep = 0;
    for (const ev of events) {
      host.t = t0 + ev.t;
      if (ev.kind === 'tick') {
        host.sampleNow();
        powerStep++;
        host.setPower(10 + (powerStep % 7) * 5, 30 + (powerStep % 5) * 40, 8);
        host.intensityGPerKWh = 50 + (powerStep % 11) * 60;
      } else if (ev.kind === 'start') {
        open.set(ev.id, host.calls.withLabels({ id: ev.id }, () => startCall(ops[ev.id % 3]!)));
        spans.set(ev.id, { id: ev.id, s: host.t, e: NaN });
      } else {
        await open.get(ev.id)!.end();
        spans.get(ev.id)!.e = host.t;
      }
    }
    host.t = t0 + 6100;
    host.sampleNow();
    for (const r of host.records) idOf.set(String(r.labels.id), Number(r.labels.id));
    expect(host.records).toHaveLength(N);

    const ref = reference(host.measurements, [...spans.values()]);
    for (const r of host.records) {
      const expected = ref.energy.get(Number(r.labels.id)) ?? 0;
      if (expected === 0) expect(r.energyJ).toBe(0);
      else expect(rel(r.energyJ, expected)).toBeLessThan(1e-9);
    }
    const measured = host.measurements.reduce((a, m) => a + m.energyJ, 0);
    const measuredKg = host.measurements.reduce((a, m) => a + m.emissionsKg, 0);
    const calls = host.records.reduce((a, r) => a + r.energyJ, 0);
    const callsKg = host.records.reduce((a, r) => a + r.emissionsKg, 0);
    const stats = host.calls.callStats();
    expect(rel(calls + stats.idleEnergyJ!, measured)).toBeLessThan(1e-9);
    expect(rel(callsKg + stats.idleEmissionsKg!, measuredKg)).toBeLessThan(1e-9);
    expect(rel(stats.idleEnergyJ!, ref.idle)).toBeLessThan(1e-9);
    expect(rel(stats.energyJ, calls)).toBeLessThan(1e-12);
    // Components add up to the total for every record.
    for (const r of host.records) expect(r.cpuEnergyJ + r.gpuEnergyJ + r.ramEnergyJ).toBeCloseTo(r.energyJ, 9);
    const totals = host.calls.attributionTotals();
    expect(rel(totals.callsEnergyJ + totals.idleEnergyJ, totals.energyJ)).toBeLessThan(1e-12);
    expect(totals.maxInFlight).toBeGreaterThan(2);
  });

  it('samples from the end of a call in a loop that never yields, keeping pending calls bounded', () => {
    const host = new FakeHost().start();
    const work = host.calls.wrap(() => host.advance(1), { name: 'sync' }); // each call takes 1 ms
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) {
      work();
      seen.push((host.calls as unknown as { pending: { n: number } }).pending.n);
    }
    // 1000 ms of back-to-back 1 ms calls at a 100 ms interval: the ends trigger ~10 samples.
    expect(host.measurements.length).toBe(10);
    expect(Math.max(...seen)).toBeLessThanOrEqual(100);
    expect(host.records).toHaveLength(1000);
    // Back-to-back calls of equal length at constant power: 100 W × 1 ms each.
    for (const r of host.records) expect(r.energyJ).toBeCloseTo(0.1, 9);
  });

  it('forces a sample when maxPendingCalls calls are waiting, even if no time passes', () => {
    const host = new FakeHost({}, { maxPendingCalls: 50 });
    host.start();
    const work = host.calls.wrap(() => 1, { name: 'instant' });
    for (let i = 0; i < 1000; i++) work();
    expect(host.measurements).toHaveLength(20);
    expect(host.records).toHaveLength(1000);
  });

  it('turns fast sampling on with the first call and off once an interval passes with none', async () => {
    const host = new FakeHost().start();
    const op = asyncOp(host);
    const a = startCall(op);
    const b = startCall(op);
    expect(host.fastToggles).toEqual([true]);
    host.advance(40);
    await a.end();
    await b.end();
    host.tick(60); // attributes a and b; a call started in this interval, so stay on
    expect(host.fast).toBe(true);
    host.tick(100); // nothing started, nothing in flight
    expect(host.fast).toBe(false);
    startCall(op);
    expect(host.fastToggles).toEqual([true, false, true]);
  });

  it('a stream call in flight across many intervals accumulates each interval’s share', async () => {
    const host = new FakeHost().start();
    const op = asyncOp(host);
    const a = startCall(op);
    for (let i = 0; i < 50; i++) host.tick(100);
    host.advance(30);
    await a.end();
    host.tick(70);
    expect(host.records[0]!.energyJ).toBeCloseTo(100 * 5.03, 6);
    expect(host.records[0]!.durationS).toBeCloseTo(5.03, 9);
  });
});
