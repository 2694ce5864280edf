// nvmlSource against the fake libnvidia-ml: counter path, power-sampling fallback, probe failures,
// device selection and devices failing mid-run. Energies are asserted to the millijoule.
import { afterEach, describe, expect, it } from 'vitest';
import { WattprintError } from '../../src/errors.js';
import { nvmlSource, type NvmlSource, type NvmlSourceOptions } from '../../src/sources/nvml.js';
import type { WattprintWarning } from '../../src/types.js';
import { FakeGpus, TWO_H200, fakeContext, fakeLibrary, nativeAddon } from './nvml-helpers.js';

const open: NvmlSource[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

function source(opts: NvmlSourceOptions = {}, mode: 'machine' | 'process' = 'machine') {
  const { ctx, clock } = fakeContext(mode);
  const warnings: WattprintWarning[] = [];
  const s = nvmlSource(ctx, nativeAddon(), {
    libraryPath: fakeLibrary(),
    env: {},
    onWarning: (w) => warnings.push(w),
    powerSampleIntervalMs: 3_600_000, // keeps the background timer out of the way; reads integrate
    ...opts,
  });
  open.push(s);
  return { s, clock, warnings };
}

describe('nvmlSource: energy counter', () => {
  it('is the delta of each GPU counter since start(), to the millijoule', () => {
    const gpus = new FakeGpus(TWO_H200);
    const { s, clock } = source();
    const probe = s.probe();
    expect(probe).toEqual({
      ok: true,
      devices: [
        { id: '0', name: 'NVIDIA H200', details: { index: 0, uuid: TWO_H200['0.uuid'], architecture: 'hopper', energyCounter: true, powerLimitW: 700 } },
        { id: '1', name: 'NVIDIA H200', details: { index: 1, uuid: TWO_H200['1.uuid'], architecture: 'hopper', energyCounter: true, powerLimitW: 700 } },
      ],
    });
    expect(s.kind).toBe('measured');
    expect(s.component).toBe('gpu');
    s.start();
    gpus.set({ '0.energy_mj': 1001234, '1.energy_mj': 2056789 });
    clock.ms = 1000;
    const r1 = s.read();
    expect(r1.energyJ).toBeCloseTo(1.234 + 56.789, 9);
    expect(r1.devicesJ).toEqual({ '0': 1.234, '1': 56.789 });
    expect(r1.utilizationPercent).toBe(60);
    gpus.set({ '0.energy_mj': 1001235 });
    expect(s.read().devicesJ!['0']).toBeCloseTo(1.235, 12);
    expect(s.modes).toEqual({ '0': 'counter', '1': 'counter' });
    expect(s.boundaryNote).toBeUndefined();
    expect(s.scope).toBe('machine');
  });

  it('keeps millijoule resolution on counters above 2^53', () => {
    const gpus = new FakeGpus({ count: 1, '0.arch': 8, '0.energy_mj': '9007199254740993000', '0.power_mw': 1 });
    const { s } = source();
    s.start();
    gpus.set({ '0.energy_mj': '9007199254740993001' });
    expect(s.read().energyJ).toBe(0.001);
  });

  it('drops the interval where the counter fell (driver reload, glitch) and counts on from the new value', () => {
    const gpus = new FakeGpus({ count: 1, '0.arch': 7, '0.energy_mj': 5_000_000, '0.power_mw': 1 });
    const { s, warnings } = source();
    s.start();
    gpus.set({ '0.energy_mj': 5_010_000 });
    expect(s.read().energyJ).toBe(10);
    gpus.set({ '0.energy_mj': 3_000 });
    expect(s.read().energyJ).toBe(10);
    gpus.set({ '0.energy_mj': 5_000 });
    expect(s.read().energyJ).toBe(12);
    expect(warnings.map((w) => w.code)).toEqual(['COUNTER_GLITCH']);
  });

  it('restarts totals at each start()', () => {
    const gpus = new FakeGpus({ count: 1, '0.arch': 7, '0.energy_mj': 1000, '0.power_mw': 1 });
    const { s } = source();
    s.start();
    gpus.set({ '0.energy_mj': 3000 });
    expect(s.read().energyJ).toBe(2);
    s.start();
    gpus.set({ '0.energy_mj': 3500 });
    expect(s.read().energyJ).toBe(0.5);
  });
});

describe('nvmlSource: power sampling where the counter is missing', () => {
  it('integrates power with the trapezoid rule (energy_error=3, as on a T4 vGPU)', () => {
    const gpus = new FakeGpus({ count: 1, '0.name': 'Tesla T4', '0.arch': 6, '0.energy_error': 3, '0.power_mw': 100_000 });
    const { s, clock } = source();
    const probe = s.probe();
    expect(probe.ok && probe.devices[0]!.details!.energyCounter).toBe(false);
    expect(probe.ok && probe.note).toBe(
      'GPU 0: energy integrated from power samples every 3600000 ms (nvmlDeviceGetTotalEnergyConsumption: NVML_ERROR_NOT_SUPPORTED)',
    );
    s.start();
    gpus.set({ '0.power_mw': 200_000 });
    clock.ms = 1000;
    expect(s.read().energyJ).toBeCloseTo(150, 9); // (100 + 200) / 2 W x 1 s
    clock.ms = 3500;
    gpus.set({ '0.power_mw': 60_500 });
    expect(s.read().energyJ).toBeCloseTo(150 + ((200 + 60.5) / 2) * 2.5, 9);
    expect(s.modes).toEqual({ '0': 'power' });
    expect(s.boundaryNote).toContain('energy integrated from power samples');
  });

  it('uses power sampling before Volta even when a counter answers (as Zeus does)', () => {
    const gpus = new FakeGpus({ count: 1, '0.name': 'Tesla P100', '0.arch': 4, '0.energy_mj': 777, '0.power_mw': 50_000 });
    const { s, clock } = source();
    const probe = s.probe();
    expect(probe.ok && probe.note).toContain('pascal is older than Volta');
    s.start();
    gpus.set({ '0.energy_mj': 999_999 });
    clock.ms = 2000;
    expect(s.read().energyJ).toBeCloseTo(100, 9);
  });

  it('uses power sampling when the library has no counter function (old driver)', () => {
    new FakeGpus({ count: 1, '0.power_mw': 42_000 });
    const { s, clock } = source({ libraryPath: fakeLibrary('minimal') });
    expect(s.probe().ok).toBe(true);
    s.start();
    clock.ms = 10_000;
    expect(s.read().energyJ).toBeCloseTo(420, 9);
    expect(s.modes).toEqual({ '0': 'power' });
  });

  it('treats a counter reading 0 at probe as missing', () => {
    new FakeGpus({ count: 1, '0.arch': 9, '0.energy_mj': 0, '0.power_mw': 10_000 });
    const { s } = source();
    const probe = s.probe();
    expect(probe.ok && probe.note).toContain('the energy counter reads 0');
    expect(s.modes).toEqual({ '0': 'power' });
  });

  it('switches to power sampling when the counter stays frozen while the board draws power', () => {
    const gpus = new FakeGpus({ count: 1, '0.arch': 8, '0.energy_mj': 5000, '0.power_mw': 100_000 });
    const { s, clock, warnings } = source();
    s.start();
    clock.ms = 4000;
    expect(s.read().energyJ).toBe(0); // within COUNTER_STUCK_MS: could be a slow update
    clock.ms = 6000;
    expect(s.read().energyJ).toBeCloseTo(600, 9); // the stuck span counted at 100 W
    expect(s.modes).toEqual({ '0': 'power' });
    expect(warnings.map((w) => w.code)).toEqual(['NVML_COUNTER_STUCK']);
    gpus.set({ '0.power_mw': 300_000 });
    clock.ms = 7000;
    expect(s.read().energyJ).toBeCloseTo(800, 9);
    expect(s.boundaryNote).toContain('energy counter stuck; switched to power sampling');
  });

  it('samples power in the background between reads', async () => {
    new FakeGpus({ count: 1, '0.arch': 6, '0.energy_error': 3, '0.power_mw': 100_000 });
    let calls = 0;
    const times: number[] = [];
    const { ctx } = fakeContext();
    const s = nvmlSource(
      { ...ctx, nowMs: () => { calls++; const t = performance.now(); times.push(t); return t; } },
      nativeAddon(),
      { libraryPath: fakeLibrary(), env: {}, powerSampleIntervalMs: 10 },
    );
    open.push(s);
    s.start();
    const deadline = Date.now() + 5000;
    while (calls < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const energyJ = s.read().energyJ;
    expect(calls).toBeGreaterThanOrEqual(5);
    // Constant 100 W: the integral over [start, last read] whatever the sample times.
    expect(energyJ).toBeCloseTo((100 * (times.at(-1)! - times[0]!)) / 1000, 9);
  });
});

describe('nvmlSource: probe failures', () => {
  it('says why when the addon is missing or disabled', () => {
    const { ctx } = fakeContext();
    const missing = nvmlSource(ctx, { errors: [{ candidate: '/x/wattprint.node', error: 'No native build' }], fix: 'npm rebuild wattprint' });
    expect(missing.probe()).toEqual({
      ok: false,
      code: 'NATIVE_UNAVAILABLE',
      reason: 'the native addon did not load (/x/wattprint.node: No native build)',
      fix: 'npm rebuild wattprint',
    });
    const disabled = nvmlSource(ctx, { errors: [], disabled: true, fix: 'remove WATTPRINT_NATIVE=0' });
    expect(disabled.probe()).toMatchObject({ ok: false, code: 'DISABLED' });
  });

  it('says NOT_PRESENT with the dlopen error when NVML cannot be loaded', () => {
    const { s } = source({ libraryPath: '/nonexistent/libnvidia-ml.so.1' });
    const probe = s.probe();
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.code).toBe('NOT_PRESENT');
    expect(probe.reason).toMatch(/^NVML is not available \(dlopen\(\/nonexistent\/libnvidia-ml\.so\.1\): .*No such file or directory\)$/);
    expect(probe.fix).toContain('nvmlLibraryPath');
  });

  it('passes init errors through with a fix (DRIVER_NOT_LOADED)', () => {
    new FakeGpus({ ...TWO_H200, init_error: 9 });
    const { s } = source();
    expect(s.probe()).toEqual({
      ok: false,
      code: 'NVML_ERROR_DRIVER_NOT_LOADED',
      reason: 'NVML failed to initialise: nvmlInit_v2: Driver Not Loaded',
      fix: expect.stringContaining('modprobe nvidia'),
    });
    expect(() => s.start()).toThrow(WattprintError);
  });

  it('says NOT_PRESENT when NVML sees no GPU, and releases NVML', () => {
    new FakeGpus({ count: 0 });
    const { s } = source();
    expect(s.probe()).toEqual({ ok: false, code: 'NOT_PRESENT', reason: 'NVML sees no GPU' });
    // NVML was shut down: another library can be loaded in this process.
    expect(nativeAddon().binding.nvmlInit(fakeLibrary('minimal'))).toBe(fakeLibrary('minimal'));
    nativeAddon().binding.nvmlShutdown();
  });

  it('drops a GPU that answers neither energy nor power, and fails when none is left', () => {
    const gpus = new FakeGpus({ ...TWO_H200, '1.energy_error': 3, '1.power_error': 4 });
    const { s } = source();
    const probe = s.probe();
    expect(probe.ok && probe.devices.map((d) => d.id)).toEqual(['0']);
    expect(probe.ok && probe.note).toBe(
      'GPU 1 (NVIDIA H200): no energy counter (nvmlDeviceGetTotalEnergyConsumption: NVML_ERROR_NOT_SUPPORTED) and no power reading (nvmlDeviceGetPowerUsage: Insufficient Permissions): not measured',
    );
    s.close();
    gpus.set({ '0.lost': 1 });
    const none = source().s.probe();
    // The first failing GPU's status is the code; the reason lists every GPU.
    expect(none).toMatchObject({ ok: false, code: 'NVML_ERROR_GPU_IS_LOST' });
    expect(!none.ok && none.reason).toMatch(/^GPU 0 \(GPU 0\): .*GPU is lost.*; GPU 1 \(NVIDIA H200\): .*Insufficient Permissions\)$/);
  });
});

describe('nvmlSource: device selection', () => {
  it('measures only the GPUs selected by gpuIds (index, UUID, GPU- prefix)', () => {
    const gpus = new FakeGpus(TWO_H200);
    for (const gpuIds of [['1'], [TWO_H200['1.uuid']], ['GPU-b7d2'], ['b7d20000']]) {
      const { s } = source({ gpuIds });
      const probe = s.probe();
      expect(probe.ok && probe.devices.map((d) => d.id), gpuIds[0]).toEqual(['1']);
      s.start();
      gpus.set({ '0.energy_mj': 1_500_000, '1.energy_mj': 2_000_250 });
      expect(s.read()).toMatchObject({ energyJ: 0.25, devicesJ: { '1': 0.25 } });
      gpus.set({ '0.energy_mj': 1_000_000, '1.energy_mj': 2_000_000 });
      s.close();
    }
  });

  it('selects the parent GPU of a MIG UUID and says the energy is the whole GPU', () => {
    new FakeGpus({ ...TWO_H200, '1.mig_uuids': 'MIG-4f1e0000-aaaa-bbbb-cccc-dddddddddddd' });
    const { s } = source({ gpuIds: ['MIG-4f1e0000-aaaa-bbbb-cccc-dddddddddddd'] });
    const probe = s.probe();
    expect(probe.ok && probe.devices.map((d) => [d.id, d.details!.mig])).toEqual([['1', true]]);
    expect(s.boundaryNote).toBe("GPU 1: selected through a MIG UUID; energy is the whole GPU's (MIG instances have no energy counter)");
  });

  it('defaults to CUDA_VISIBLE_DEVICES; an empty value means no GPU', () => {
    new FakeGpus(TWO_H200);
    expect(source({ env: { CUDA_VISIBLE_DEVICES: 'GPU-8a3f' } }).s.probe()).toMatchObject({ ok: true, devices: [{ id: '0' }] });
    for (const v of ['', 'NoDevFiles', '-1']) {
      const probe = source({ env: { CUDA_VISIBLE_DEVICES: v } }).s.probe();
      expect(probe).toMatchObject({ ok: false, code: 'NOT_SELECTED' });
      expect(!probe.ok && probe.reason).toMatch(/^CUDA_VISIBLE_DEVICES=".*" selects none of the 2 GPU\(s\) NVML sees/);
    }
    const partial = source({ env: { CUDA_VISIBLE_DEVICES: '1,5,0' } }).s.probe();
    expect(partial.ok && partial.devices.map((d) => d.id)).toEqual(['1']);
    expect(partial.ok && partial.note).toBe('CUDA_VISIBLE_DEVICES; not matched: 5 (no GPU with index 5; 0 ignored after it, as CUDA does)');
  });

  it('rejects gpuIds that match nothing', () => {
    new FakeGpus(TWO_H200);
    expect(source({ gpuIds: ['7'] }).s.probe()).toEqual({
      ok: false,
      code: 'NOT_SELECTED',
      reason: 'gpuIds [7] selects none of the 2 GPU(s) NVML sees; not matched: 7 (no GPU with index 7)',
      fix: 'Select GPUs by NVML index or UUID (`nvidia-smi -L` lists them).',
    });
  });
});

describe('nvmlSource: a device failing mid-run', () => {
  it('keeps a lost GPU at its last total, warns once, and counts the gap when it answers again', () => {
    const gpus = new FakeGpus(TWO_H200);
    const { s, clock, warnings } = source();
    s.start();
    gpus.set({ '0.energy_mj': 1_001_000, '1.energy_mj': 2_002_000 });
    clock.ms = 1000;
    expect(s.read().energyJ).toBe(3);
    gpus.set({ '1.lost': 1, '0.energy_mj': 1_003_000, '1.energy_mj': 2_009_000 });
    clock.ms = 2000;
    expect(s.read().devicesJ).toEqual({ '0': 3, '1': 2 });
    clock.ms = 3000;
    expect(s.read().devicesJ).toEqual({ '0': 3, '1': 2 });
    expect(warnings).toEqual([
      {
        code: 'NVML_ERROR_GPU_IS_LOST',
        component: 'gpu',
        message: 'GPU 1 (NVIDIA H200): nvmlDeviceGetTotalEnergyConsumption: GPU is lost; its energy stays at 2.000 J until it answers again',
      },
    ]);
    expect(s.lastErrors).toEqual([
      { deviceId: '1', code: 'NVML_ERROR_GPU_IS_LOST', message: 'nvmlDeviceGetTotalEnergyConsumption: GPU is lost', sinceMs: 2000 },
    ]);
    // Back: the counter kept counting while we could not read it.
    gpus.set({ '1.lost': undefined, '1.energy_mj': 2_010_000 });
    clock.ms = 4000;
    expect(s.read()).toMatchObject({ energyJ: 13, devicesJ: { '0': 3, '1': 10 } });
    expect(s.lastErrors).toEqual([]);
    gpus.set({ '1.lost': 1 });
    s.read();
    expect(warnings).toHaveLength(2); // a new run of failures warns again
  });

  it('does not integrate power across a gap in power-sampling mode', () => {
    const gpus = new FakeGpus({ count: 1, '0.arch': 6, '0.energy_error': 3, '0.power_mw': 100_000 });
    const { s, clock, warnings } = source();
    s.start();
    clock.ms = 1000;
    expect(s.read().energyJ).toBeCloseTo(100, 9);
    gpus.set({ '0.power_error': 15 });
    clock.ms = 5000;
    expect(s.read().energyJ).toBeCloseTo(100, 9);
    expect(warnings[0]!.code).toBe('NVML_ERROR_GPU_IS_LOST');
    gpus.set({ '0.power_error': undefined });
    clock.ms = 9000;
    expect(s.read().energyJ).toBeCloseTo(100, 9); // first sample after the gap is a new baseline
    clock.ms = 10_000;
    expect(s.read().energyJ).toBeCloseTo(200, 9);
  });
});
