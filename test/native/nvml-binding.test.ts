// The NVML half of the addon against the fake libnvidia-ml, through the real dlopen/dlsym path.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { NvmlError } from '../../src/native/binding.js';
import { FakeGpus, TWO_H200, fakeLibrary, fakeLibraryDir, nativeAddon } from './nvml-helpers.js';

const b = () => nativeAddon().binding;

function thrown(fn: () => unknown): NvmlError {
  try {
    fn();
  } catch (err) {
    return err as NvmlError;
  }
  throw new Error('expected a throw');
}

afterEach(() => {
  // Balance every nvmlInit so the next test may load another library.
  for (let i = 0; i < 10; i++) b().nvmlShutdown();
});

describe('NVML binding (fake library by absolute path)', () => {
  it('reads identity, counters and rates of each device', () => {
    new FakeGpus({ ...TWO_H200, '1.energy_mj': '1152921504606846977', driver: '550.54.15' });
    expect(b().nvmlInit(fakeLibrary())).toBe(fakeLibrary());
    expect(b().nvmlDeviceGetCount()).toBe(2);
    expect(b().nvmlSystemGetDriverVersion()).toBe('550.54.15');
    expect(b().nvmlDeviceGetName(0)).toBe('NVIDIA H200');
    expect(b().nvmlDeviceGetUuid(1)).toBe(TWO_H200['1.uuid']);
    expect(b().nvmlDeviceGetArchitecture(0)).toBe(9);
    expect(b().nvmlDeviceGetTotalEnergyConsumption(0)).toBe(1000000n);
    // 2^60 + 1 mJ: beyond 2^53, exact only as a BigInt.
    expect(b().nvmlDeviceGetTotalEnergyConsumption(1)).toBe(1152921504606846977n);
    expect(b().nvmlDeviceGetPowerUsage(0)).toBe(300000);
    expect(b().nvmlDeviceGetEnforcedPowerLimit(1)).toBe(700000);
    expect(b().nvmlDeviceGetUtilizationRates(1)).toEqual({ gpu: 40, memory: 0 });
  });

  it('re-reads the counter on every call', () => {
    const gpus = new FakeGpus(TWO_H200);
    b().nvmlInit(fakeLibrary());
    const before = b().nvmlDeviceGetTotalEnergyConsumption(0);
    gpus.set({ '0.energy_mj': '1010000' });
    expect(b().nvmlDeviceGetTotalEnergyConsumption(0) - before).toBe(10000n);
  });

  it('turns NVML statuses into Error.code through one table, with nvmlErrorString text', () => {
    new FakeGpus({ ...TWO_H200, '0.energy_error': 3, '1.lost': 1, '0.power_error': 123 });
    b().nvmlInit(fakeLibrary());
    const notSupported = thrown(() => b().nvmlDeviceGetTotalEnergyConsumption(0));
    expect(notSupported).toBeInstanceOf(Error);
    expect(notSupported.code).toBe('NVML_ERROR_NOT_SUPPORTED');
    expect(notSupported.nvmlReturn).toBe(3);
    expect(notSupported.message).toBe('nvmlDeviceGetTotalEnergyConsumption: Not Supported');
    const lost = thrown(() => b().nvmlDeviceGetName(1));
    expect([lost.code, lost.nvmlReturn, lost.message]).toEqual(['NVML_ERROR_GPU_IS_LOST', 15, 'nvmlDeviceGetName: GPU is lost']);
    // A status missing from the table is still an error, coded UNKNOWN, with NVML's own text.
    const odd = thrown(() => b().nvmlDeviceGetPowerUsage(0));
    expect([odd.code, odd.nvmlReturn]).toEqual(['NVML_ERROR_UNKNOWN', 123]);
    expect(thrown(() => b().nvmlDeviceGetPowerUsage(7)).code).toBe('NVML_ERROR_INVALID_ARGUMENT');
    expect(thrown(() => b().nvmlDeviceGetPowerUsage('0' as unknown as number)).code).toBe('NVML_ERROR_INVALID_ARGUMENT');
  });

  it('reports init failures with the NVML status', () => {
    new FakeGpus({ ...TWO_H200, init_error: 9 });
    const err = thrown(() => b().nvmlInit(fakeLibrary()));
    expect([err.code, err.message]).toEqual(['NVML_ERROR_DRIVER_NOT_LOADED', 'nvmlInit_v2: Driver Not Loaded']);
    expect(thrown(() => b().nvmlDeviceGetCount()).code).toBe('NVML_ERROR_UNINITIALIZED');
  });

  it('reports dlopen failures and libraries that are not NVML', () => {
    const missing = thrown(() => b().nvmlInit('/nonexistent/libnvidia-ml.so.1'));
    expect(missing.code).toBe('NVML_ERROR_LIBRARY_NOT_FOUND');
    expect(missing.message).toMatch(/^dlopen\(\/nonexistent\/libnvidia-ml\.so\.1\): .*cannot open shared object file/);
    const libc = thrown(() => b().nvmlInit('libc.so.6'));
    expect([libc.code, libc.message]).toEqual(['NVML_ERROR_FUNCTION_NOT_FOUND', 'libc.so.6 does not export nvmlInit_v2 (not an NVML library?)']);
  });

  it('reference-counts init, and refuses a second library while the first is in use', () => {
    new FakeGpus(TWO_H200);
    b().nvmlInit(fakeLibrary());
    b().nvmlInit();
    const inUse = thrown(() => b().nvmlInit(fakeLibrary('minimal')));
    expect(inUse.code).toBe('NVML_ERROR_IN_USE');
    b().nvmlShutdown();
    expect(b().nvmlDeviceGetCount()).toBe(2);
    b().nvmlShutdown();
    expect(thrown(() => b().nvmlDeviceGetCount()).code).toBe('NVML_ERROR_UNINITIALIZED');
    // Once released, another library may be loaded.
    expect(b().nvmlInit(fakeLibrary('minimal'))).toBe(fakeLibrary('minimal'));
  });

  it('returns per-process samples newer than lastSeenTimeStamp', () => {
    const gpus = new FakeGpus({ ...TWO_H200, '0.procs': '100:30:5,200:10', '0.procs_ts': 5000 });
    b().nvmlInit(fakeLibrary());
    expect(b().nvmlDeviceGetProcessUtilization(0, 0)).toEqual([
      { pid: 100, smUtil: 30, memUtil: 5, timeStampUs: 5000 },
      { pid: 200, smUtil: 10, memUtil: 0, timeStampUs: 5000 },
    ]);
    expect(b().nvmlDeviceGetProcessUtilization(0, 5000)).toEqual([]);
    expect(b().nvmlDeviceGetProcessUtilization(1, 0)).toEqual([]);
    gpus.set({ '0.procs_error': 3 });
    expect(thrown(() => b().nvmlDeviceGetProcessUtilization(0, 0)).code).toBe('NVML_ERROR_NOT_SUPPORTED');
  });

  it('maps GPU and MIG UUIDs to the GPU index', () => {
    new FakeGpus({ ...TWO_H200, '1.mig_uuids': 'MIG-aaaa,MIG-bbbb' });
    b().nvmlInit(fakeLibrary());
    expect(b().nvmlDeviceResolveUuid(TWO_H200['1.uuid'])).toEqual({ index: 1, mig: false });
    expect(b().nvmlDeviceResolveUuid('MIG-bbbb')).toEqual({ index: 1, mig: true });
    expect(thrown(() => b().nvmlDeviceResolveUuid('MIG-zzzz')).code).toBe('NVML_ERROR_NOT_FOUND');
  });

  it('falls back to pre-v2 names and reports missing optional functions as NOT_SUPPORTED', () => {
    new FakeGpus(TWO_H200);
    b().nvmlInit(fakeLibrary('minimal'));
    expect(b().nvmlDeviceGetCount()).toBe(2);
    expect(b().nvmlDeviceGetPowerUsage(1)).toBe(100000);
    for (const fn of [
      () => b().nvmlDeviceGetTotalEnergyConsumption(0),
      () => b().nvmlDeviceGetArchitecture(0),
      () => b().nvmlDeviceGetProcessUtilization(0, 0),
      () => b().nvmlDeviceResolveUuid('MIG-aaaa'),
      () => b().nvmlSystemGetDriverVersion(),
    ]) {
      const err = thrown(fn);
      expect(err.code).toBe('NVML_ERROR_NOT_SUPPORTED');
      expect(err.message).toContain('not exported by');
    }
  });
});

describe('NVML binding (soname through LD_LIBRARY_PATH)', () => {
  it('finds libnvidia-ml.so.1 on the loader path set before the process starts', () => {
    const gpus = new FakeGpus({ ...TWO_H200, '0.energy_mj': '123456789012' });
    const script = `const b = require(${JSON.stringify(nativeAddon().path)});
      const lib = b.nvmlInit();
      console.log(JSON.stringify({ lib, n: b.nvmlDeviceGetCount(), e: String(b.nvmlDeviceGetTotalEnergyConsumption(0)) }));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: fakeLibraryDir(), FAKE_NVML_FILE: gpus.file },
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ lib: 'libnvidia-ml.so.1', n: 2, e: '123456789012' });
  });
});
