import { describe, expect, it } from 'vitest';
import { EmissionsTracker } from '../../src/tracker.js';
import { FakePowerSource, ManualClock } from '../../src/testing/index.js';
import type { EnergyReading, IntensityProvider, PowerSource } from '../../src/types.js';

const J_PER_KWH = 3_600_000;

/** A two-GPU source giving per-device totals: device '0' draws 100 W, device '1' 300 W. */
function twoGpus(clock: ManualClock): PowerSource & { failNext: boolean } {
  let t0 = 0;
  return {
    id: 'two-gpus',
    component: 'gpu',
    kind: 'measured',
    failNext: false,
    probe: () => ({ ok: true, devices: [{ id: '0', name: 'GPU A' }, { id: '1', name: 'GPU B' }] }),
    start() {
      t0 = clock.now();
    },
    read(): EnergyReading {
      if (this.failNext) {
        this.failNext = false;
        throw new Error('injected');
      }
      const s = (clock.now() - t0) / 1000;
      return { energyJ: 400 * s, devicesJ: { '0': 100 * s, '1': 300 * s } };
    },
  };
}

function setup() {
  const clock = new ManualClock(5000);
  let g = 100;
  const intensity: IntensityProvider = { id: 'steps', getIntensity: () => ({ gPerKWh: g, source: 'test steps' }) };
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 50, clock, id: 'fake-cpu' });
  const gpu = twoGpus(clock);
  const tracker = new EmissionsTracker({
    projectName: 'snap',
    sources: { cpu: [cpu], gpu: [gpu], ram: [] },
    saveToFile: false,
    handleSignals: false,
    clock: clock.now,
    intensityProvider: intensity,
    pue: 1.5,
    measurePowerSecs: 3600,
    // The call energies below follow the time rule (one call at a time gets its whole interval).
    attribution: 'time',
  });
  tracker.on('error', () => {});
  tracker.on('warning', () => {});
  return { clock, cpu, gpu, tracker, setIntensity: (v: number) => (g = v) };
}

describe('tracker.snapshot()', () => {
  it('is empty and not running before start', () => {
    const { tracker } = setup();
    const s = tracker.snapshot();
    expect(s.running).toBe(false);
    expect(s.projectName).toBe('snap');
    expect(s.runId).toBe(tracker.runId);
    expect(s.startedAtMs).toBe(0);
    expect(s.lastSampleAtMs).toBe(0);
    expect(s.durationS).toBe(0);
    expect(s.energyJ).toBe(0);
    expect(s.components.cpu).toEqual({ component: 'cpu', source: 'none', kind: 'none', scope: 'machine', energyJ: 0, powerW: 0, emissionsG: 0, devices: [] });
    expect(s.calls).toEqual([]);
    // The run report before start reads the same (empty) totals instead of failing.
    return tracker.report().then((r) => expect(r).toBeDefined());
  });

  it('gives energy before PUE, emissions after PUE × the intensity of each interval, and the last interval power', () => {
    const { clock, tracker, setIntensity } = setup();
    const before = Date.now();
    tracker.start();
    const after = Date.now();
    clock.advance(2000);
    tracker.sample();
    setIntensity(500);
    clock.advance(4000);
    tracker.sample();
    const s = tracker.snapshot();
    expect(s.running).toBe(true);
    expect(s.pue).toBe(1.5);
    expect(s.durationS).toBe(6);
    expect(s.startedAtMs).toBeGreaterThanOrEqual(before);
    expect(s.startedAtMs).toBeLessThanOrEqual(after);
    expect(s.lastSampleAtMs - s.startedAtMs).toBe(6000);

    const cpu = s.components.cpu;
    expect(cpu.source).toBe('fake-cpu');
    expect(cpu.kind).toBe('measured');
    expect(cpu.energyJ).toBeCloseTo(300, 9); // 50 W × 6 s, before PUE
    expect(cpu.powerW).toBeCloseTo(50, 9);
    // 100 J × 1.5 at 100 g/kWh, then 200 J × 1.5 at 500 g/kWh.
    const cpuG = (150 * 100 + 300 * 500) / J_PER_KWH;
    expect(cpu.emissionsG).toBeCloseTo(cpuG, 12);

    const gpu = s.components.gpu;
    expect(gpu.energyJ).toBeCloseTo(2400, 9);
    expect(gpu.powerW).toBeCloseTo(400, 9);
    const gpuG = (800 * 1.5 * 100 + 1600 * 1.5 * 500) / J_PER_KWH;
    expect(gpu.emissionsG).toBeCloseTo(gpuG, 12);
    expect(gpu.devices).toHaveLength(2);
    expect(gpu.devices[0]).toMatchObject({ id: '0', name: 'GPU A' });
    expect(gpu.devices[0]!.energyJ).toBeCloseTo(600, 9);
    expect(gpu.devices[0]!.powerW).toBeCloseTo(100, 9);
    expect(gpu.devices[1]!.energyJ).toBeCloseTo(1800, 9);
    expect(gpu.devices[1]!.powerW).toBeCloseTo(300, 9);
    // FakePowerSource gives no per-device split: named devices without numbers.
    expect(cpu.devices).toEqual([{ id: '0', name: 'fake cpu' }]);

    expect(s.components.ram).toMatchObject({ source: 'none', kind: 'none', energyJ: 0, emissionsG: 0 });
    expect(s.energyJ).toBeCloseTo(2700, 9);
    expect(s.emissionsG).toBeCloseTo(cpuG + gpuG, 12);
    expect(s.intensity?.gPerKWh).toBe(500);
  });

  it('agrees with the emissions of stop() and never samples by itself', async () => {
    const { clock, cpu, tracker } = setup();
    tracker.start();
    clock.advance(10_000);
    const reads = cpu.reads;
    const a = tracker.snapshot();
    expect(tracker.snapshot()).toBe(a); // nothing sampled: same object
    expect(cpu.reads).toBe(reads);
    expect(a.energyJ).toBe(0);
    const data = await tracker.stop();
    const s = tracker.snapshot();
    expect(s).not.toBe(a);
    expect(s.running).toBe(false);
    expect(s.emissionsG).toBeCloseTo(data.emissionsKg * 1000, 12);
    expect(s.energyJ * 1.5).toBeCloseTo(data.energyConsumedKWh * J_PER_KWH, 6);
  });

  it('includes the interval\'s calls in a snapshot taken inside a measurement listener', () => {
    const { clock, tracker } = setup();
    let inside = -1;
    // Registered before start(): the tracker still attributes the interval to calls before the event.
    tracker.on('measurement', () => (inside = tracker.snapshot().calls.length));
    tracker.start();
    // A call ending a call-sampling interval (250 ms, the default) after the last sample takes one, which attributes it.
    tracker.wrap(() => clock.advance(250), { name: 'h' })();
    expect(inside).toBe(1);
    expect(tracker.snapshot().calls.map((c) => [c.name, c.ok])).toEqual([['h', 1]]);
  });

  it('reports power 0 for an interval whose read failed, and keeps the device totals', () => {
    const { clock, gpu, tracker } = setup();
    tracker.start();
    clock.advance(1000);
    tracker.sample();
    gpu.failNext = true;
    clock.advance(1000);
    tracker.sample();
    const s = tracker.snapshot();
    expect(s.components.gpu.powerW).toBe(0);
    expect(s.components.gpu.energyJ).toBeCloseTo(400, 9);
    expect(s.components.gpu.devices[1]!.energyJ).toBeCloseTo(300, 9);
    expect(s.components.cpu.powerW).toBeCloseTo(50, 9);
    clock.advance(2000);
    tracker.sample();
    const t = tracker.snapshot();
    // The counter is cumulative: the failed interval's energy arrives with the next read.
    expect(t.components.gpu.energyJ).toBeCloseTo(1600, 9);
    expect(t.components.gpu.powerW).toBeCloseTo(600, 9);
    // Device power spans the reads that produced it (3 s), not the last interval (2 s).
    expect(t.components.gpu.devices[1]!.powerW).toBeCloseTo(300, 9);
  });

  it('counts calls per handler by outcome, with their energy and tokens', async () => {
    const { clock, tracker } = setup();
    tracker.start();
    const chat = tracker.wrap(
      (n: number) => {
        clock.advance(1000);
        if (n < 0) throw new Error('bad');
        return { n };
      },
      { name: 'chat', tokens: (r: { n: number }) => ({ inputTokens: r.n, outputTokens: 2 * r.n }) },
    );
    const embed = tracker.wrap(() => clock.advance(500), { name: 'embed' });
    chat(3);
    chat(4);
    expect(() => chat(-1)).toThrow('bad');
    embed();
    const stream = tracker.wrap(
      async function* () {
        yield 1;
        yield 2;
      },
      { name: 'stream' },
    );
    for await (const _ of stream()) break;
    tracker.sample();
    const s = tracker.snapshot();
    expect(s.calls.map((c) => c.name)).toEqual(['chat', 'embed', 'stream']);
    expect(s.calls[2]).toMatchObject({ ok: 0, error: 0, aborted: 1 });
    const c = s.calls[0]!;
    expect([c.ok, c.error, c.aborted]).toEqual([2, 1, 0]);
    expect(c.inputTokens).toBe(7);
    expect(c.outputTokens).toBe(14);
    // One call at a time: each gets the whole interval it ran in (50 W + 400 W, × PUE 1.5).
    expect(c.energyJ).toBeCloseTo(3 * 450 * 1.5, 6);
    expect(s.calls[1]).toMatchObject({ name: 'embed', ok: 1, error: 0, aborted: 0, inputTokens: 0, outputTokens: 0 });
    expect(s.calls[1]!.energyJ).toBeCloseTo(0.5 * 450 * 1.5, 6);
  });
});
