// Compiled with experimentalDecorators (see test/vitest.config.ts): the legacy decorator form.
import { describe, expect, it } from 'vitest';
import { trackEmissions } from '../../src/decorator.js';
import { InMemoryReporter } from '../../src/testing/index.js';

describe('trackEmissions (legacy experimentalDecorators)', () => {
  it('decorates methods, keeping this, results and thrown errors', async () => {
    const out = new InMemoryReporter();
    const o = { saveToFile: false, reporters: [out], handleSignals: false, native: false, forceCarbonIntensityGPerKWh: 50 };
    const boom = new RangeError('legacy boom');
    class Service {
      base = 10;
      @trackEmissions(o)
      add(x: number) {
        return this.base + x;
      }
      @trackEmissions({ ...o, projectName: 'legacy-async' })
      async later(x: number) {
        await new Promise((r) => setTimeout(r, 5));
        return this.base * x;
      }
      @trackEmissions(o)
      explode(): never {
        throw boom;
      }
    }
    const s = new Service();
    expect(s.add(1)).toBe(11);
    await expect(s.later(3)).resolves.toBe(30);
    expect(() => s.explode()).toThrow(boom);
    await new Promise((r) => setTimeout(r, 10));
    expect(out.rows.map((r) => r.data.projectName)).toEqual(['add', 'legacy-async', 'explode']);
  });
});

describe('trackEmissions({ tracker }) as a legacy decorator', () => {
  it('emits a CallRecord per call of the decorated method', async () => {
    const { EmissionsTracker } = await import('../../src/tracker.js');
    const { FakePowerSource, ManualClock } = await import('../../src/testing/index.js');
    const clock = new ManualClock();
    const tracker = new EmissionsTracker({
      sources: { cpu: [], gpu: [new FakePowerSource({ component: 'gpu', powerW: 300, clock })], ram: [] },
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
      forceCarbonIntensityGPerKWh: 200,
    });
    class Embedder {
      dims = 4;
      @trackEmissions({ tracker, name: 'embed' })
      embed(text: string) {
        clock.advance(200);
        return Array.from({ length: this.dims }, () => text.length);
      }
    }
    const records: Array<{ name: string; energyJ: number; emissionsKg: number }> = [];
    tracker.on('call', (c) => records.push(c));
    tracker.start();
    expect(new Embedder().embed('hello')).toEqual([5, 5, 5, 5]);
    await tracker.stop();
    expect(records.map((r) => r.name)).toEqual(['embed']);
    expect(records[0]!.energyJ).toBeCloseTo(60, 6); // 300 W × 0.2 s
    expect(records[0]!.emissionsKg).toBeCloseTo((60 / 3.6e6) * 0.2, 12);
  });
});
