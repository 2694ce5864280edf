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
