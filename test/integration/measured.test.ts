/// <reference path="../global-setup.ts" />
// The whole default chain through EmissionsTracker on fake hardware: RAPL on a fixture sysfs tree
// (read by the addon) and NVML through the fake libnvidia-ml.so.1, both found through the same
// options a container deployment would use (sysfsRoot, nvmlLibraryPath).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { EmissionsTracker } from '../../src/tracker.js';
import { ManualClock } from '../../src/testing/index.js';
import { buildSystem, EU, type FakeSystem } from '../fixtures/powercap/tree.js';

const fake = inject('fakeNvml');
const addon = inject('nativeAddon');
let sys: FakeSystem | undefined;
afterEach(() => sys?.cleanup());

function nvmlFile(energyMj: [number, number]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wattprint-measured-')), 'gpus.txt');
  const devices = [0, 1].map(
    (i) => `${i}.name=NVIDIA H200\n${i}.uuid=GPU-0000000${i}-aaaa-bbbb-cccc-dddddddddddd\n${i}.arch=9\n${i}.energy_mj=${energyMj[i]}\n${i}.power_mw=500000\n`,
  );
  writeFileSync(file, `count=2\n${devices.join('')}`);
  return file;
}

describe('EmissionsTracker on measured sources (fake RAPL tree + fake NVML)', () => {
  it('sums RAPL packages and DRAM across wraps and NVML counters, to the microjoule', async () => {
    expect(fake.path, fake.error).toBeTruthy();
    expect(addon.path, addon.error).toBeTruthy();
    sys = buildSystem({
      rapl: [
        { name: 'package-0', children: [{ name: 'core' }, { name: 'dram', euNj: EU.serverDram }] },
        { name: 'package-1', children: [{ name: 'dram', euNj: EU.serverDram }] },
      ],
      mmio: [{ name: 'package-0' }],
      cpu: { vendor: 'GenuineIntel', family: 6, model: 85 },
      cpuSockets: [0, 1],
    });
    const file = nvmlFile([5_000_000, 7_000_000]);
    process.env.FAKE_NVML_FILE = file;
    const clock = new ManualClock();
    const tracker = new EmissionsTracker({
      sysfsRoot: sys.sysfsRoot,
      procfsRoot: sys.procfsRoot,
      devRoot: sys.devRoot,
      nvmlLibraryPath: fake.path!,
      native: addon.path!,
      saveToFile: false,
      handleSignals: false,
      forceCarbonIntensityGPerKWh: 250,
      pue: 1.1,
      clock: clock.now,
    });
    tracker.start();
    const pkg0 = sys.zone('intel-rapl-mmio:0'); // MMIO copy of package-0 is the one read
    const pkg1 = sys.zone('intel-rapl:1');
    const dram0 = sys.zone('intel-rapl:0:1');
    const dram1 = sys.zone('intel-rapl:1:0');
    // Physically possible steps: 3e9 counts of 61 µJ (183 kJ) take 183 s at the 1000 W RAPL bound;
    // the GPUs draw their 500 W meanwhile (95 kJ a step), so their counters move too.
    const gpuStepMj = 95_000_000;
    for (let i = 0; i < 4; i++) {
      clock.advance(190_000);
      pkg0.addRaw(3_000_000_000); // crosses 2^32 about every other step
      pkg1.addRaw(1_234_567 + i);
      dram0.addRaw(2_500_000_000);
      dram1.addRaw(77_777);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/0\.energy_mj=\d+/, `0.energy_mj=${5_000_000 + (i + 1) * gpuStepMj}`).replace(/1\.energy_mj=\d+/, `1.energy_mj=${7_000_000 + (i + 1) * gpuStepMj}`));
      tracker._sampleNow();
    }
    writeFileSync(file, readFileSync(file, 'utf8').replace(/0\.energy_mj=\d+/, `0.energy_mj=${5_123_456 + 4 * gpuStepMj}`).replace(/1\.energy_mj=\d+/, `1.energy_mj=${7_000_789 + 4 * gpuStepMj}`));
    clock.advance(1000);
    const data = await tracker.stop();
    delete process.env.FAKE_NVML_FILE;

    const cpuJ = (pkg0.addedUj() + pkg1.addedUj()) / 1e6;
    const ramJ = (dram0.addedUj() + dram1.addedUj()) / 1e6;
    const gpuJ = (123_456 + 789 + 8 * gpuStepMj) / 1000;
    expect(data.cpuEnergyKWh * 3.6e6).toBeCloseTo(cpuJ * 1.1, 5);
    expect(data.ramEnergyKWh * 3.6e6).toBeCloseTo(ramJ * 1.1, 5);
    expect(data.gpuEnergyKWh * 3.6e6).toBeCloseTo(gpuJ * 1.1, 9);
    expect(data.emissionsKg).toBeCloseTo((((cpuJ + ramJ + gpuJ) * 1.1) / 3.6e6) * 0.25, 12);
    expect(data.boundary.cpu).toMatchObject({ source: 'rapl', kind: 'measured', scope: 'machine', pueApplied: true });
    expect(data.boundary.ram).toMatchObject({ source: 'rapl-dram', kind: 'measured' });
    expect(data.boundary.gpu).toMatchObject({ source: 'nvml', kind: 'measured', devices: ['NVIDIA H200', 'NVIDIA H200'] });
    expect(data.gpuCount).toBe(2);
    expect(data.gpuModel).toBe('2 x NVIDIA H200');
    expect(data.cpuCount).toBe(2);
  });
});
