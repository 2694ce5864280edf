import { describe, expect, it } from 'vitest';
import { defaultSources, EmissionsTracker } from '../../src/index.js';
import { FakeNvmlBinding, FakePowerSource, ManualClock } from '../../src/testing/index.js';

describe('defaultSources(options)', () => {
  it('returns the built-in chains in order of preference, forced powers replacing a chain', () => {
    const ids = (o: Parameters<typeof defaultSources>[0]) => {
      const d = defaultSources(o);
      return { cpu: d.cpu.map((s) => s.id), gpu: d.gpu.map((s) => s.id), ram: d.ram.map((s) => s.id) };
    };
    expect(ids({ native: false })).toEqual({ cpu: ['rapl', 'cpu-tdp'], gpu: ['nvml'], ram: ['rapl-dram', 'ram-dimm'] });
    expect(ids({ native: false, forceCpuPowerW: 40, forceRamPowerW: 8 })).toEqual({ cpu: ['cpu-tdp'], gpu: ['nvml'], ram: ['ram-forced'] });
  });

  it('extends a chain: the user source first, the built-in ones behind it', async () => {
    const clock = new ManualClock();
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ powerW: 250 }] });
    const options = { native: nvml, clock: clock.now, forceRamPowerW: 8 };
    const defaults = defaultSources(options);
    const meter = new FakePowerSource({ component: 'gpu', powerW: 999, clock, id: 'pdu', unavailable: 'PDU offline' });
    const t = new EmissionsTracker({
      ...options,
      sources: { cpu: [], gpu: [meter, ...defaults.gpu], ram: defaults.ram },
      saveToFile: false,
      handleSignals: false,
      forceCarbonIntensityGPerKWh: 100,
    });
    t.start();
    clock.advance(4000);
    const data = await t.stop();
    expect(t.sources()!.candidates.filter((c) => c.component === 'gpu').map((c) => [c.id, c.chosen])).toEqual([
      ['pdu', false],
      ['nvml', true],
    ]);
    expect(data.gpuEnergyKWh * 3_600_000).toBeCloseTo(1000, 6);
    expect(data.ramEnergyKWh * 3_600_000).toBeCloseTo(32, 6);
  });
});
