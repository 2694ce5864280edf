/// <reference path="../global-setup.ts" />
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { readCsv } from '../../src/reporters/index.js';
import { runCli, tempDir } from './helpers.js';

// The fake libnvidia-ml.so.1 built by test/global-setup.ts re-reads its values from $FAKE_NVML_FILE
// on every call, so a tracked command can move the GPU's energy counter. Both it and the addon
// come from the set-up; without them the native tests fail with the build log and these are skipped.
const fake = inject('fakeNvml');
const addon = inject('nativeAddon');
const H200 = {
  count: 1,
  '0.name': 'NVIDIA H200',
  '0.uuid': 'GPU-8a3f1c2e-1111-2222-3333-444444444444',
  '0.arch': 9,
  '0.energy_mj': 1_000_000,
  '0.power_mw': 300_000,
  '0.power_limit_mw': 700_000,
};

function gpuFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wattprint-cli-gpu-')), 'gpus.txt');
  writeFileSync(file, Object.entries(H200).map(([k, v]) => `${k}=${v}\n`).join(''));
  return file;
}

describe.skipIf(!fake.path || !addon.path)('wattprint with an NVML GPU (fake library)', () => {
  it('run --machine measures the GPU energy the command moved the counter by', async () => {
    const out = tempDir();
    const file = gpuFile();
    // After a pause (so the tracker has its baseline), the "workload" adds 50 000 mJ to the counter.
    const bump = `setTimeout(() => { const fs = require('fs'); const f = process.env.FAKE_NVML_FILE; fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('0.energy_mj=1000000', '0.energy_mj=1050000')); }, 500);`;
    const r = await runCli(['run', '--machine', '--save-to-json', '--nvml-library-path', fake.path!, '--output-dir', out, '--', 'node', '-e', bump], {
      env: { FAKE_NVML_FILE: file },
    });
    expect(r.code).toBe(0);
    const [row] = readCsv(join(out, 'emissions.csv'));
    expect(Number(row!.gpu_energy) * 3.6e6).toBeCloseTo(50, 9);
    expect(row!.gpu_count).toBe('1');
    expect(row!.gpu_model).toBe('1 x NVIDIA H200');
    const [json] = readFileSync(join(out, 'emissions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(json.boundary.gpu).toMatchObject({ source: 'nvml', kind: 'measured', devices: ['NVIDIA H200'] });
    expect(r.stderr).toMatch(/gpu\s+50 J\s+\S+ %\s+\S+ W\s+nvml \(measured, whole machine; NVIDIA H200\)/);
  });

  it('detect shows NVML chosen for the GPU with its device', async () => {
    const r = await runCli(['detect', '--json', '--nvml-library-path', fake.path!], { env: { FAKE_NVML_FILE: gpuFile() } });
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.components.gpu.chosen).toMatchObject({ id: 'nvml', kind: 'measured', devices: ['NVIDIA H200'] });
    expect(d.hardware.gpuModel).toBe('1 x NVIDIA H200');
  });
});
