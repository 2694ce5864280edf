// NVML policy through the tracker with the TypeScript fake binding (`native: FakeNvmlBinding`):
// GPU selection, counter or power integration, stuck counters, lost devices, init failures.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { detect } from '../../src/detect.js';
import { EmissionsTracker } from '../../src/tracker.js';
import { FakeNvmlBinding, ManualClock } from '../../src/testing/index.js';
import type { EmissionsTrackerOptions } from '../../src/options.js';
import type { WattprintWarning } from '../../src/types.js';

const J_PER_KWH = 3_600_000;

function track(nvml: FakeNvmlBinding, clock: ManualClock, extra: EmissionsTrackerOptions = {}) {
  const warnings: WattprintWarning[] = [];
  const t = new EmissionsTracker({
    native: nvml,
    sources: { cpu: [], ram: [] },
    saveToFile: false,
    handleSignals: false,
    clock: clock.now,
    forceCarbonIntensityGPerKWh: 100,
    measurePowerSecs: 3600,
    ...extra,
  });
  t.on('warning', (w) => warnings.push(w));
  t.on('error', () => {});
  return { t, warnings };
}

describe('NVML through FakeNvmlBinding', () => {
  it('measures each GPU from its energy counter, exactly, and releases NVML at stop', async () => {
    const clock = new ManualClock(1000);
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ name: 'Fake H200', powerW: 300 }, { name: 'Fake H200', powerW: 100 }] });
    const { t } = track(nvml, clock);
    t.start();
    expect(nvml.initCount).toBe(1);
    clock.advance(10_000);
    t.sample();
    const s = t.snapshot();
    expect(s.components.gpu.source).toBe('nvml');
    expect(s.components.gpu.devices.map((d) => [d.id, d.name, d.energyJ, d.powerW])).toEqual([
      ['0', 'Fake H200', 3000, 300],
      ['1', 'Fake H200', 1000, 100],
    ]);
    nvml.gpu(0).setPowerW(500);
    clock.advance(10_000);
    const data = await t.stop();
    expect(data.gpuEnergyKWh * J_PER_KWH).toBeCloseTo(3000 + 1000 + 5000 + 1000, 6);
    expect(data.gpuModel).toBe('2 x Fake H200');
    expect(data.boundary.gpu).toMatchObject({ source: 'nvml', kind: 'measured', devices: ['Fake H200', 'Fake H200'] });
    expect(nvml.initCount).toBe(0);
  });

  it('measures only the GPUs gpuIds selects, by index or UUID', async () => {
    const clock = new ManualClock();
    const gpus = [{ powerW: 300, uuid: 'GPU-aaaa-0' }, { powerW: 100, uuid: 'GPU-bbbb-1' }, { powerW: 50, uuid: 'GPU-cccc-2' }];
    for (const gpuIds of [['1'], ['GPU-bbbb-1']]) {
      const nvml = new FakeNvmlBinding({ clock, gpus });
      const { t } = track(nvml, clock, { gpuIds });
      t.start();
      clock.advance(2000);
      const data = await t.stop();
      expect(data.gpuEnergyKWh * J_PER_KWH).toBeCloseTo(200, 6);
      expect(data.gpuCount).toBe(1);
    }
  });

  it('leaves the GPU unaccounted and says why when gpuIds selects none', async () => {
    const clock = new ManualClock();
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ powerW: 300 }] });
    const { t } = track(nvml, clock, { gpuIds: ['7'] });
    t.start();
    clock.advance(1000);
    const data = await t.stop();
    expect(data.gpuEnergyKWh).toBe(0);
    expect(data.boundary.gpu.kind).toBe('none');
    expect(data.boundary.gpu.note).toMatch(/nvml: gpuIds \[7\] selects none of the 1 GPU/);
    expect(nvml.initCount).toBe(0);
  });

  it('integrates power where the counter is missing (pre-Volta, or not supported) and says so', async () => {
    const clock = new ManualClock();
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ powerW: 120, architecture: 4 }, { powerW: 80, energyCounter: false }] });
    const { t } = track(nvml, clock);
    t.start();
    clock.advance(5000);
    t.sample();
    nvml.gpu(1).setPowerW(160);
    clock.advance(5000);
    const data = await t.stop();
    // GPU 0: 120 W × 10 s; GPU 1: 80 W for 5 s, then the trapezoid between 80 W and 160 W over 5 s.
    expect(data.gpuEnergyKWh * J_PER_KWH).toBeCloseTo(1200 + 400 + 600, 6);
    expect(data.boundary.gpu.note).toMatch(/GPU 0: energy integrated from power samples .*pascal is older than Volta/);
    expect(data.boundary.gpu.note).toMatch(/GPU 1: energy integrated from power samples .*NVML_ERROR_NOT_SUPPORTED/);
  });

  it('switches a stuck counter to power sampling and counts the stuck span at that power', async () => {
    const clock = new ManualClock();
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ powerW: 200 }] });
    const { t, warnings } = track(nvml, clock);
    t.start();
    clock.advance(1000);
    t.sample(); // 200 J from the counter
    nvml.gpu(0).freezeCounter();
    clock.advance(6000);
    t.sample();
    expect(warnings.map((w) => w.code)).toContain('NVML_COUNTER_STUCK');
    clock.advance(1000);
    const data = await t.stop();
    expect(data.gpuEnergyKWh * J_PER_KWH).toBeCloseTo(200 + 1200 + 200, 6);
    expect(data.boundary.gpu.note).toMatch(/energy counter stuck; switched to power sampling/);
  });

  it('keeps a lost GPU at its last total, warns once with the NVML code, and resumes when it answers', async () => {
    const clock = new ManualClock();
    const nvml = new FakeNvmlBinding({ clock, gpus: [{ powerW: 100 }, { powerW: 100 }] });
    const { t, warnings } = track(nvml, clock);
    t.start();
    clock.advance(1000);
    t.sample();
    nvml.gpu(1).lose();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      t.sample();
    }
    const lost = warnings.filter((w) => w.code === 'NVML_ERROR_GPU_IS_LOST');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/GPU 1 .*its energy stays at 100\.000 J/);
    const s = t.snapshot();
    expect(s.components.gpu.devices[0]!.energyJ).toBeCloseTo(400, 6);
    expect(s.components.gpu.devices[1]!.energyJ).toBeCloseTo(100, 6);
    nvml.gpu(1).recover();
    clock.advance(1000);
    const data = await t.stop();
    // The counter kept counting while the device did not answer: its energy arrives on recovery.
    expect(data.gpuEnergyKWh * J_PER_KWH).toBeCloseTo(500 + 500, 6);
  });

  it('turns init failures into probe reasons with codes and fixes (detect)', () => {
    const notLoaded = detect({ native: new FakeNvmlBinding({ gpus: [{}], initError: 'NVML_ERROR_DRIVER_NOT_LOADED' }) });
    const gpu = notLoaded.components.gpu.candidates[0]!;
    expect(gpu).toMatchObject({ id: 'nvml', ok: false, code: 'NVML_ERROR_DRIVER_NOT_LOADED' });
    expect(gpu.fix).toMatch(/kernel driver is not loaded/);
    expect(notLoaded.native.loaded).toBe(true);
    const missing = detect({ native: new FakeNvmlBinding({ gpus: [], initError: 'NVML_ERROR_LIBRARY_NOT_FOUND' }) });
    expect(missing.components.gpu.candidates[0]).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    const none = new FakeNvmlBinding({ gpus: [] });
    expect(detect({ native: none }).components.gpu.candidates[0]).toMatchObject({ ok: false, code: 'NOT_PRESENT', reason: 'NVML sees no GPU' });
    expect(none.initCount).toBe(0);
  });

  it('rejects a native object that is not a binding, or that comes from a config file, naming the option', () => {
    expect(() => new EmissionsTracker({ native: {} as never, saveToFile: false })).toThrow(/`native`.*binding object with nvmlInit/);
    const home = mkdtempSync(join(tmpdir(), 'wattprint-native-home-'));
    writeFileSync(join(home, '.wattprint.json'), JSON.stringify({ native: { nvmlInit: 'x' } }));
    expect(() => resolveOptions({ saveToFile: false }, { home, cwd: home, env: {} })).toThrow(/`native`.*expected a boolean or a string, got object/);
  });
});
