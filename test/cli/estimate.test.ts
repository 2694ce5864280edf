import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalGpu, GPU_ROWS, lookupGpu } from '../../src/cli/gpu-table.js';
import { lookupCpuTdp } from '../../src/estimate/cpu-tdp.js';
import { gridIntensity } from '../../src/intensity/index.js';
import { ROOT, runCli } from './helpers.js';

const row = (name: string) => {
  const r = GPU_ROWS.find((g) => g.name === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
};

async function estimateJson(args: string[]) {
  const r = await runCli(['estimate', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('wattprint estimate', () => {
  it('computes hours × (GPUs × TDP + CPU TDP) × PUE and the emissions at the country intensity', async () => {
    const gpu = row('NVIDIA H100 SXM');
    const cpu = lookupCpuTdp('AMD EPYC 7763')!;
    const fra = gridIntensity({ countryIsoCode: 'FRA' });
    const kWh = (72 * (8 * gpu.tdpW + cpu.tdpW) * 1.1) / 1000;
    const kg = (kWh * fra.gPerKWh) / 1000;
    const r = await estimateJson(['--gpu', 'H100 SXM', '--gpus', '8', '--hours', '72', '--cpu', 'AMD EPYC 7763', '--country', 'FRA', '--pue', '1.1']);
    expect(r.energyKWh).toBeCloseTo(kWh, 9);
    expect(r.emissionsKg).toBeCloseTo(kg, 9);
    expect(r.powerW).toBe(8 * gpu.tdpW + cpu.tdpW);
    expect(r.gpu).toMatchObject({ name: 'NVIDIA H100 SXM', count: 8, tdpW: 700, source: { kind: 'mlco2', row: 'H100 SXM' } });
    expect(r.cpu).toMatchObject({ powerW: cpu.tdpW, matchedName: cpu.name });
    expect(r.intensity).toMatchObject({ gPerKWh: fra.gPerKWh, source: fra.source });
  });

  it('prints the energy, the emissions and every assumption with its source', async () => {
    const gpu = row('NVIDIA A100 PCIe 80GB');
    const deu = gridIntensity({ countryIsoCode: 'DEU' });
    const kWh = (10 * 2 * gpu.tdpW) / 1000;
    const r = await runCli(['estimate', '--gpu', 'NVIDIA A100 80GB PCIe', '--gpus', '2', '--hours', '10', '--country', 'deu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`= 10 h × (2 × 300 W) × PUE 1 / 1000 = ${kWh} kWh`);
    expect(r.stdout).toContain(`kWh × ${Number(deu.gPerKWh.toPrecision(3))} g/kWh`);
    expect(r.stdout).toContain('Green Algorithms TDP_gpu.csv v3.0 row "NVIDIA A100 80GB PCIe" (Lannelongue et al. 2021, CC BY 4.0)');
    expect(r.stdout).toContain('The tables disagree');
    expect(r.stdout).toContain('CPU: not included');
    expect(r.stdout).toContain('PUE: 1, facility overhead not included');
    expect(r.stdout).toContain(`grid intensity: ${Number(deu.gPerKWh.toPrecision(3))} gCO2eq/kWh for Germany (${deu.source}`);
  });

  it('uses the GCP region intensity with --cloud gcp --region', async () => {
    const gcp = gridIntensity({ cloudProvider: 'gcp', cloudRegion: 'europe-west1' });
    const r = await estimateJson(['--gpu', 'T4', '--hours', '5', '--cloud', 'gcp', '--region', 'europe-west1']);
    expect(r.intensity.gPerKWh).toBe(gcp.gPerKWh);
    expect(r.emissionsKg).toBeCloseTo((((5 * 70) / 1000) * gcp.gPerKWh) / 1000, 12);
  });

  it('falls back to 4 W per thread for an unknown CPU with --cpu-threads', async () => {
    const r = await estimateJson(['--cpu', 'Imaginary CPU 9000', '--cpu-threads', '16', '--hours', '2', '--intensity', '100']);
    expect(r.cpu.powerW).toBe(64);
    expect(r.energyKWh).toBeCloseTo(0.128, 12);
    expect(r.emissionsKg).toBeCloseTo(0.0128, 12);
  });

  it.each([
    ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100 SXM4 80GB'],
    ['Tesla V100-SXM2-16GB', 'NVIDIA V100 SXM2 16GB'],
    ['nvidia h100 80gb hbm3', 'NVIDIA H100 SXM'],
    ['NVIDIA H200', 'NVIDIA H200 SXM'],
    ['GeForce RTX 4090', 'NVIDIA GeForce RTX 4090'],
    ['rtx-5090', 'NVIDIA GeForce RTX 5090'],
    ['mi300x', 'AMD Instinct MI300X'],
    ['Radeon Instinct MI100', 'AMD Instinct MI100'],
  ])('finds %s (nvidia-smi names, any case, without vendor words)', async (query, name) => {
    expect(lookupGpu(query).row?.name).toBe(name);
    const r = await estimateJson(['--gpu', query, '--hours', '1', '--intensity', '0']);
    expect(r.gpu.name).toBe(name);
    expect(r.energyKWh).toBeCloseTo(row(name).tdpW / 1000, 12);
  });

  it('exits 2 with suggestions for an ambiguous or unknown GPU', async () => {
    const r = await runCli(['estimate', '--gpu', 'A100', '--hours', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    for (const n of ['NVIDIA A100 PCIe 40GB', 'NVIDIA A100 PCIe 80GB', 'NVIDIA A100 SXM4 40GB', 'NVIDIA A100 SXM4 80GB']) expect(r.stderr).toContain(`'${n}'`);
    const typo = await runCli(['estimate', '--gpu', 'RTX 4009', '--hours', '1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^wattprint: unknown GPU 'RTX 4009'; did you mean .*'NVIDIA GeForce RTX 4090'/);
    const none = await runCli(['estimate', '--gpu', 'Voodoo5 6000 Ultra Max', '--hours', '1']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^wattprint: unknown GPU 'Voodoo5 6000 Ultra Max' \(wattprint estimate --list-gpus lists the \d+ known models\)\n$/);
  });

  it.each([
    [['--gpu', 'T4'], /^wattprint: missing --hours <h>/],
    [['--gpu', 'T4', '--hours', '-1'], /^wattprint: invalid value for --hours: expected a number > 0, got -1\n$/],
    [['--gpu', 'T4', '--hours', '1', '--gpus', '1.5'], /^wattprint: option '--gpus <n>' argument '1\.5' is invalid\. expected a positive integer\.\n$/],
    [['--gpu', 'T4', '--hours', '1', '--pue', '0.9'], /^wattprint: invalid value for --pue: expected a PUE between 1 and 5/],
    [['--hours', '1'], /^wattprint: nothing to estimate/],
    [['--cpu', 'Imaginary CPU 9000', '--hours', '1'], /^wattprint: unknown CPU model 'Imaginary CPU 9000'.*--cpu-threads/],
    // A 0 W table row counts as unknown, as in the tracker's TDP rule.
    [['--cpu', 'Intel Quark Microcontroller D1000', '--hours', '1'], /^wattprint: unknown CPU model 'Intel Quark Microcontroller D1000'/],
    [['--gpu', 'T4', '--hours', '1', '--cloud', 'gcp'], /^wattprint: --cloud gcp needs --region/],
    [['--gpu', 'T4', '--hours', '1', '--cloud', 'ibm'], /^wattprint: option '--cloud <provider>' argument 'ibm' is invalid\. Allowed choices are gcp, aws, azure\.\n$/],
  ])('rejects %j with exit 2 and one line', async (args, message) => {
    const r = await runCli(['estimate', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('--list-gpus lists every row with its watts and source', async () => {
    const r = await runCli(['estimate', '--list-gpus']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(GPU_ROWS.length + 1);
    expect(r.stdout).toMatch(/AMD Instinct MI300X\s+750\s+data-centre\s+AMD's MLPerf Inference v4\.1 system description/);
  });
});

describe('the GPU table (src/cli/data/gpu-tdp.json)', () => {
  it('covers the common data-centre GPUs, consumer GPUs and AMD Instinct', () => {
    for (const q of ['V100 PCIe 16GB', 'T4', 'A10G', 'A30', 'A40', 'A100 SXM4 40GB', 'A100 SXM4 80GB', 'A100 PCIe 40GB', 'A100 PCIe 80GB', 'L4', 'L40S', 'H100 SXM', 'H100 PCIe', 'H100 NVL', 'H200 SXM', 'H200 NVL', 'B200', 'RTX 2080 Ti', 'RTX 3090', 'RTX 4090', 'RTX 5090', 'RTX A6000', 'RTX 6000 Ada', 'MI100', 'MI250X', 'MI300X'])
      expect(lookupGpu(q).row, q).toBeDefined();
  });

  it('gives every row positive watts and a source: a copied row name, or a URL and the quoted text', () => {
    const names = new Set<string>();
    for (const g of GPU_ROWS) {
      expect(g.tdpW, g.name).toBeGreaterThan(0);
      expect(names.has(canonicalGpu(g.name)), g.name).toBe(false);
      names.add(canonicalGpu(g.name));
      if (g.source.kind === 'mlco2' || g.source.kind === 'green-algorithms') expect(g.source.row, g.name).toBeTruthy();
      else {
        expect(g.source.url, g.name).toMatch(/^https?:\/\//);
        expect(g.source.quote, g.name).toBeTruthy();
        expect(g.source.quote, g.name).toContain(String(g.tdpW));
      }
    }
  });

  const shared = join(ROOT, '..', 'shared', 'data');
  it.skipIf(!existsSync(join(shared, 'ml-co2-impact', 'gpus.csv')))('copies the ML CO2 Impact and Green Algorithms values exactly', () => {
    const mlco2 = new Map(
      readFileSync(join(shared, 'ml-co2-impact', 'gpus.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','))
        .map((c) => [c[0]!, Number(c[2])] as const),
    );
    const ga = new Map(
      readFileSync(join(shared, 'green-algorithms', 'TDP_gpu.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => l.split(','))
        .map((c) => [c[0]!, Number(c[1])] as const),
    );
    const table = (kind: string) => (kind === 'mlco2' ? mlco2 : kind === 'green-algorithms' ? ga : undefined);
    let copied = 0;
    for (const g of GPU_ROWS) {
      const t = table(g.source.kind);
      if (t) {
        expect(t.get(g.source.row!), `${g.name}: row ${g.source.row}`).toBe(g.tdpW);
        copied++;
      }
      for (const other of g.alsoIn ?? []) expect(table(other.kind)!.get(other.row), `${g.name}: alsoIn ${other.row}`).toBe(other.tdpW);
    }
    expect(copied).toBeGreaterThanOrEqual(30);
  });
});

describe('wattprint estimate uses the library TDP rule', () => {
  it('a 0 W table row counts as unknown, as in the tracker (CodeCarbon `if power:`): 4 W per thread', async () => {
    const { estimate } = await import('../../src/cli/estimate.js');
    const { cpuTdp } = await import('../../src/estimate/cpu-tdp.js');
    const r = estimate({ cpu: 'Intel Quark Microcontroller D1000', cpuThreads: 2, hours: 1 });
    expect(r.cpu?.powerW).toBe(cpuTdp({ model: 'Intel Quark Microcontroller D1000', threads: 2, sockets: 1 }).tdpW);
    expect(r.cpu?.powerW).toBe(8);
    expect(() => estimate({ cpu: 'Intel Quark Microcontroller D1000', hours: 1 })).toThrow(/add --cpu-threads/);
  });
});
