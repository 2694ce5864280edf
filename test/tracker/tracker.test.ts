import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker } from '../../src/tracker.js';
import { WattprintError } from '../../src/errors.js';
import { FakePowerSource, InMemoryReporter, ManualClock } from '../../src/testing/index.js';
import type { IntensityProvider, Measurement, WattprintWarning } from '../../src/types.js';

const HOUR_MS = 3_600_000;

function setup(extra: Record<string, unknown> = {}) {
  const clock = new ManualClock(1000);
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 50, clock, id: 'fake-cpu' });
  const gpu = new FakePowerSource({ component: 'gpu', powerW: 200, clock, id: 'fake-gpu', devices: [{ id: '0', name: 'Fake GPU' }, { id: '1', name: 'Fake GPU' }] });
  const ram = new FakePowerSource({ component: 'ram', powerW: 10, clock, id: 'fake-ram', kind: 'estimated' });
  const out = new InMemoryReporter();
  const tracker = new EmissionsTracker({
    sources: { cpu: [cpu], gpu: [gpu], ram: [ram] },
    reporters: [out],
    saveToFile: false,
    handleSignals: false,
    clock: clock.now,
    forceCarbonIntensityGPerKWh: 100,
    measurePowerSecs: 60,
    ...extra,
  });
  return { clock, cpu, gpu, ram, out, tracker };
}

describe('EmissionsTracker energy accounting', () => {
  it('integrates each component, applies PUE and intensity, and reports time-weighted powers', async () => {
    const { clock, tracker, out } = setup({ pue: 1.5, wue: 2 });
    tracker.start();
    clock.advance(HOUR_MS);
    const data = await tracker.stop();
    expect(data.durationS).toBeCloseTo(3600, 9);
    expect(data.cpuEnergyKWh).toBeCloseTo(0.05 * 1.5, 12);
    expect(data.gpuEnergyKWh).toBeCloseTo(0.2 * 1.5, 12);
    expect(data.ramEnergyKWh).toBeCloseTo(0.01 * 1.5, 12);
    expect(data.energyConsumedKWh).toBeCloseTo(0.26 * 1.5, 12);
    expect(data.cpuPowerW).toBeCloseTo(75, 9);
    expect(data.gpuPowerW).toBeCloseTo(300, 9);
    expect(data.emissionsKg).toBeCloseTo((0.39 * 100) / 1000, 12);
    expect(data.emissionsRateKgPerS).toBeCloseTo(0.039 / 3600, 15);
    expect(data.waterConsumedL).toBeCloseTo(0.39 * 2, 12);
    expect(data.gpuCount).toBe(2);
    expect(data.gpuModel).toBe('2 x Fake GPU');
    expect(data.trackerVersion).toMatch(/^wattprint \d+\.\d+\.\d+/);
    expect(data.nodeVersion).toBe(process.versions.node); // '20.20.2', as CodeCarbon's python_version '3.12.3'
    expect(out.rows.map((r) => r.context.phase)).toEqual(['stop']);
  });

  it('accumulates emissions as the sum of each delta times the intensity in force', async () => {
    let g = 100;
    const provider: IntensityProvider = { id: 'steps', getIntensity: () => ({ gPerKWh: g, source: 'test steps' }) };
    const clock = new ManualClock();
    const cpu = new FakePowerSource({ component: 'cpu', powerW: 1000, clock });
    // Only the CPU: 1 kW for 1 h at 100 g, then 1 h at 500 g, then 2 kW for 1 h at 50 g.
    const t = new EmissionsTracker({
      sources: { cpu: [cpu], gpu: [], ram: [] },
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
      intensityProvider: provider,
    });
    t.start();
    clock.advance(HOUR_MS);
    t._sampleNow();
    g = 500;
    clock.advance(HOUR_MS);
    t._sampleNow();
    g = 50;
    cpu.setPowerW(2000);
    clock.advance(HOUR_MS);
    const data = await t.stop();
    expect(data.energyConsumedKWh).toBeCloseTo(4, 9);
    // 1 kWh x 100 + 1 kWh x 500 + 2 kWh x 50 = 700 g; the final intensity times the total would be 200 g.
    expect(data.emissionsKg).toBeCloseTo(0.7, 9);
    expect(data.intensityGPerKWh).toBe(50);
  });

  it('emits a measurement per sample with interval energies', () => {
    const { clock, tracker } = setup();
    const seen: Measurement[] = [];
    tracker.on('measurement', (m) => seen.push(m));
    tracker.start();
    clock.advance(2000);
    tracker._sampleNow();
    clock.advance(1000);
    tracker._sampleNow();
    expect(seen).toHaveLength(2);
    expect(seen[0]!.durationS).toBeCloseTo(2, 12);
    expect(seen[0]!.cpuEnergyJ).toBeCloseTo(100, 9);
    expect(seen[1]!.gpuEnergyJ).toBeCloseTo(200, 9);
    expect(seen[1]!.energyJ).toBeCloseTo(260, 9);
    expect(seen[1]!.startMs).toBe(seen[0]!.endMs);
  });

  it('keeps tracking when a source read fails, loses no energy, and emits an error', async () => {
    const { clock, tracker, cpu } = setup();
    const errors: WattprintError[] = [];
    tracker.on('error', (e) => errors.push(e));
    tracker.start();
    clock.advance(1000);
    cpu.failReads(1);
    tracker._sampleNow();
    clock.advance(1000);
    const data = await tracker.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('SOURCE_READ');
    expect(errors[0]!.message).toContain('fake-cpu');
    // The failed interval's energy is counted by the next successful read: 50 W x 2 s.
    expect(data.cpuEnergyKWh * 3.6e6).toBeCloseTo(100, 9);
  });

  it('isolates a throwing reporter from tracking and from the other reporters', async () => {
    const bad = { id: 'bad', report: () => { throw new Error('disk full'); } };
    const rejecting = { id: 'rejecting', report: () => Promise.reject(new Error('network down')) };
    const good = new InMemoryReporter();
    const { clock, tracker } = setup({ reporters: [bad, rejecting, good] });
    const errors: WattprintError[] = [];
    tracker.on('error', (e) => errors.push(e));
    tracker.start();
    clock.advance(1000);
    await tracker.flush();
    clock.advance(1000);
    const data = await tracker.stop();
    expect(good.rows.map((r) => r.context.phase)).toEqual(['flush', 'stop']);
    expect(good.rows[0]!.data.durationS).toBeCloseTo(1, 12);
    expect(data.durationS).toBeCloseTo(2, 12);
    expect(errors.map((e) => e.code)).toEqual(['REPORTER', 'REPORTER', 'REPORTER', 'REPORTER']);
    expect(errors.map((e) => e.message).join('\n')).toContain("reporter 'rejecting' failed in report(): network down");
  });

  it('reports tasks as the difference since startTask', async () => {
    const { clock, tracker, out, cpu } = setup();
    tracker.start();
    clock.advance(10_000);
    tracker.startTask('load');
    cpu.setPowerW(150);
    clock.advance(4000);
    const task = await tracker.stopTask('load');
    expect(task.taskName).toBe('load');
    expect(task.durationS).toBeCloseTo(4, 12);
    expect(task.cpuEnergyKWh * 3.6e6).toBeCloseTo(600, 9);
    expect(task.cpuPowerW).toBeCloseTo(150, 9);
    expect(out.rows.at(-1)!.context.phase).toBe('task');
    await expect(tracker.stopTask('load')).rejects.toMatchObject({ code: 'STATE' });
    const total = await tracker.stop();
    expect(total.cpuEnergyKWh * 3.6e6).toBeCloseTo(50 * 10 + 600, 9);
  });

  it('enforces its lifecycle with STATE errors and makes stop idempotent', async () => {
    const { clock, tracker } = setup();
    await expect(tracker.flush()).rejects.toThrow(/call start\(\) first/);
    tracker.start();
    expect(() => tracker.start()).toThrow(WattprintError);
    clock.advance(500);
    const a = await tracker.stop();
    const b = await tracker.stop();
    expect(b).toBe(a);
    expect(() => tracker.start()).toThrow(/create a new EmissionsTracker/);
    expect(() => tracker.startTask('x')).toThrow(/stopped/);
  });

  it('states the boundary: sources, kinds, devices, scope and PUE', async () => {
    const { clock, tracker } = setup({ pue: 1.2 });
    tracker.start();
    clock.advance(1000);
    const { boundary } = await tracker.stop();
    expect(boundary.cpu).toMatchObject({ source: 'fake-cpu', kind: 'measured', pueApplied: true, scope: 'machine' });
    expect(boundary.gpu.devices).toEqual(['Fake GPU', 'Fake GPU']);
    expect(boundary.ram.kind).toBe('estimated');
    expect(boundary.pue).toBe(1.2);
    expect(boundary.emissionsScope).toBe('operational');
  });

  it('walks the fallback chain and says why a component is not accounted', async () => {
    const clock = new ManualClock();
    const missing = new FakePowerSource({ component: 'cpu', powerW: 1, clock, id: 'meter', unavailable: 'no meter attached' });
    const fallback = new FakePowerSource({ component: 'cpu', powerW: 20, clock, id: 'model', kind: 'estimated' });
    const noGpu = new FakePowerSource({ component: 'gpu', powerW: 1, clock, id: 'gpu-meter', unavailable: 'no GPU' });
    const t = new EmissionsTracker({
      sources: { cpu: [missing, fallback], gpu: [noGpu], ram: [] },
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
      forceCarbonIntensityGPerKWh: 0,
    });
    t.start();
    clock.advance(1000);
    const data = await t.stop();
    expect(data.boundary.cpu).toMatchObject({ source: 'model', kind: 'estimated' });
    expect(data.boundary.gpu.kind).toBe('none');
    expect(data.boundary.gpu.note).toContain('gpu-meter: no GPU');
    expect(data.gpuEnergyKWh).toBe(0);
    expect(data.cpuEnergyKWh * 3.6e6).toBeCloseTo(20, 9);
    expect(t.sources()!.candidates.map((c) => [c.id, c.chosen])).toEqual([
      ['meter', false],
      ['model', true],
      ['gpu-meter', false],
    ]);
  });

  it('warns with the option name when no location is given', async () => {
    const clock = new ManualClock();
    const t = new EmissionsTracker({
      sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 1, clock })], gpu: [], ram: [] },
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
    });
    const warnings: WattprintWarning[] = [];
    t.on('warning', (w) => warnings.push(w));
    t.start();
    clock.advance(1000);
    const data = await t.stop();
    expect(data.intensityGPerKWh).toBe(475);
    const w = warnings.find((x) => x.code === 'INTENSITY_FALLBACK');
    expect(w?.option).toBe('countryIsoCode');
    expect(w?.message).toContain('countryIsoCode');
  });

  it('writes CodeCarbon-compatible CSV rows through the built-in reporter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-tracker-'));
    const { clock, tracker } = setup({ saveToFile: true, outputDir: dir, projectName: 'csv, "quoted"', countryIsoCode: 'FRA' });
    tracker.start();
    clock.advance(1000);
    await tracker.flush();
    clock.advance(1000);
    await tracker.stop();
    const lines = readFileSync(join(dir, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.split(',')).toHaveLength(38);
    expect(lines[2]).toContain('"csv, ""quoted"""');
  });
});
