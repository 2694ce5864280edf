import { describe, expect, it } from 'vitest';
import { FakeHost, deferred } from './fake-host.js';

describe('idle baseline', () => {
  it('measures idle power over the window, then records carry dynamic energy above it', async () => {
    const host = new FakeHost({ baseline: { durationMs: 1000 } });
    host.setPower(10, 40, 10); // 60 W idle
    host.start();
    host.tick(500);
    expect(host.calls.baseline).toBeUndefined();
    host.tick(500);
    const b = await host.calls.baselineReady;
    expect(b).toBeDefined();
    expect(b!.powerW).toBeCloseTo(60, 9);
    expect(b!.gpuPowerW).toBeCloseTo(40, 9);
    expect(b!.idleDurationS).toBeCloseTo(1, 9);

    host.setPower(20, 70, 10); // 100 W under load
    const op = host.calls.wrap((d: { promise: Promise<void> }) => d.promise, { name: 'op' });
    const d1 = deferred();
    const d2 = deferred();
    const p1 = op(d1);
    const p2 = op(d2);
    host.advance(100);
    d1.resolve();
    d2.resolve();
    await Promise.all([p1, p2]);
    host.sampleNow();
    const [r1, r2] = host.records;
    // 10 J in the interval, 6 J of it is idle power × busy time: 4 J dynamic, 2 J each.
    expect(r1!.energyJ).toBeCloseTo(5, 9);
    expect(r1!.dynamicEnergyJ).toBeCloseTo(2, 9);
    expect(r2!.dynamicEnergyJ).toBeCloseTo(2, 9);
    expect(host.calls.callStats()).toMatchObject({ callsWithDynamicEnergy: 2 });
    expect(host.calls.callStats().dynamicEnergyJ).toBeCloseTo(4, 9);
  });

  it('averages idle power over idle time only when calls run during the window; early calls get no dynamic energy', async () => {
    const host = new FakeHost({ baseline: { durationMs: 1000 } });
    host.setPower(10, 40, 10);
    host.start();
    const op = host.calls.wrap((d: { promise: Promise<void> }) => d.promise, { name: 'early' });
    const d = deferred();
    const p = op(d);
    host.advance(250);
    d.resolve();
    await p;
    host.tick(250);
    host.tick(500);
    const b = await host.calls.baselineReady;
    expect(b!.idleDurationS).toBeCloseTo(0.75, 9);
    expect(b!.powerW).toBeCloseTo(60, 9);
    expect(host.records[0]!.dynamicEnergyJ).toBeUndefined();
    expect(host.warnings.filter((w) => w.code.startsWith('BASELINE'))).toHaveLength(0);
  });

  it('clamps dynamic energy at zero when load power is below the baseline', async () => {
    const host = new FakeHost({ baseline: { durationMs: 100 } });
    host.setPower(30, 60, 10);
    host.start();
    host.tick(100);
    await host.calls.baselineReady;
    host.setPower(10, 30, 10);
    host.calls.wrap(() => host.advance(100), { name: 'x' })();
    host.sampleNow();
    expect(host.records[0]!.dynamicEnergyJ).toBe(0);
    expect(host.records[0]!.energyJ).toBeCloseTo(5, 9);
  });

  it('resolves undefined with a warning when calls cover the whole window', async () => {
    const host = new FakeHost({ baseline: { durationMs: 200 } });
    host.start();
    const op = host.calls.wrap((d: { promise: Promise<void> }) => d.promise, { name: 'busy' });
    const d = deferred();
    const p = op(d);
    host.tick(200);
    expect(await host.calls.baselineReady).toBeUndefined();
    expect(host.warnings.map((w) => w.code)).toContain('BASELINE_NO_IDLE');
    d.resolve();
    await p;
    host.stop();
  });

  it('resolves undefined when stopped first, and at once without the option', async () => {
    const host = new FakeHost({ baseline: { durationMs: 60000 } });
    host.start();
    host.tick(10);
    host.stop();
    expect(await host.calls.baselineReady).toBeUndefined();
    expect(host.warnings.map((w) => w.code)).toContain('BASELINE_INCOMPLETE');
    const plain = new FakeHost().start();
    expect(await plain.calls.baselineReady).toBeUndefined();
  });

  it('completes from its own timer on a real clock', async () => {
    class RealClockHost extends FakeHost {
      override nowMs(): number {
        return performance.now();
      }
      override start(): this {
        this.t = performance.now();
        return super.start();
      }
      override sampleNow() {
        this.t = performance.now();
        return super.sampleNow();
      }
    }
    const host = new RealClockHost({ baseline: { durationMs: 30 } });
    host.setPower(5, 0, 5);
    host.start();
    const b = await host.calls.baselineReady;
    expect(b!.powerW).toBeCloseTo(10, 6);
    expect(b!.endMs - b!.startMs).toBeGreaterThanOrEqual(30);
    host.stop();
  });
});

describe('amortised training emissions', () => {
  it('adds trainingEmissionsKg / expectedRequests to each call, apart from operational emissions', () => {
    const host = new FakeHost({ amortize: { trainingEmissionsKg: 500, expectedRequests: 1_000_000 } }).start();
    const f = host.calls.wrap(() => host.advance(50), { name: 'req' });
    for (let i = 0; i < 4; i++) f();
    host.sampleNow();
    for (const r of host.records) {
      expect(r.amortizedEmissionsKg).toBeCloseTo(5e-4, 15);
      expect(r.totalEmissionsKg).toBeCloseTo(r.emissionsKg + 5e-4, 15);
      expect(r.emissionsKg).toBeCloseTo((5 * 400) / 3.6e9, 18);
    }
    const s = host.calls.callStats('req');
    expect(s.amortizedEmissionsKg).toBeCloseTo(2e-3, 15);
    expect(s.totalEmissionsKg).toBeCloseTo(s.emissionsKg + 2e-3, 15);
  });
});
