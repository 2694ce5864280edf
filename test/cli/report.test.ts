import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, formatCsvLine, toCsvRow, toJsonRecord } from '../../src/reporters/index.js';
import { EmissionsTracker } from '../../src/tracker.js';
import type { Boundary, ComponentBoundary, EmissionsData } from '../../src/types.js';
import { CHROMIUM, hasChromium, runCli, tempDir } from './helpers.js';

const J = 3.6e6;

const comp = (component: 'cpu' | 'gpu' | 'ram', source: string): ComponentBoundary => ({
  component,
  source,
  kind: source === 'none' ? 'none' : source === 'nvml' ? 'measured' : 'estimated',
  devices: [],
  scope: 'machine',
  pueApplied: false,
});
const BOUNDARY: Boundary = { cpu: comp('cpu', 'cpu-tdp'), gpu: comp('gpu', 'nvml'), ram: comp('ram', 'ram-dimm'), pue: 1, emissionsScope: 'operational' };

/** A cumulative result with the given energies (J) and intensity, every other field plausible. */
function data(projectName: string, runId: string, durationS: number, j: { cpu: number; gpu: number; ram: number }, gPerKWh: number): EmissionsData {
  const kWh = (j.cpu + j.gpu + j.ram) / J;
  return {
    timestamp: `2026-01-01T00:00:${String(Math.round(durationS)).padStart(2, '0')}`,
    projectName,
    runId,
    experimentId: 'e',
    experimentName: 'base',
    durationS,
    emissionsKg: (kWh * gPerKWh) / 1000,
    emissionsRateKgPerS: (kWh * gPerKWh) / 1000 / durationS,
    cpuPowerW: j.cpu / durationS,
    gpuPowerW: j.gpu / durationS,
    ramPowerW: j.ram / durationS,
    cpuEnergyKWh: j.cpu / J,
    gpuEnergyKWh: j.gpu / J,
    ramEnergyKWh: j.ram / J,
    energyConsumedKWh: kWh,
    waterConsumedL: 0,
    countryName: 'France',
    countryIsoCode: 'FRA',
    region: '',
    cloudProvider: '',
    cloudRegion: '',
    os: 'Linux',
    nodeVersion: 'v20',
    trackerVersion: 'wattprint 0.1.0',
    cpuCount: 2,
    cpuModel: 'Test CPU',
    gpuCount: j.gpu > 0 ? 1 : 0,
    gpuModel: j.gpu > 0 ? '1 x NVIDIA H200' : '',
    ramTotalSizeGB: 16,
    trackingMode: 'machine',
    cpuUtilizationPercent: 50,
    gpuUtilizationPercent: 0,
    ramUtilizationPercent: 10,
    ramUsedGB: 1,
    onCloud: 'N',
    pue: 1,
    wue: 0,
    intensityGPerKWh: gPerKWh,
    intensitySource: 'test',
    boundary: BOUNDARY,
  };
}

/**
 * Run A (project "alpha"): three cumulative rows 10 s apart, CPU at 20, 40 then 10 W, RAM at 5 W.
 * Run B (alpha): one row, 5 s of CPU 30 W + GPU 100 W + RAM 5 W. Run C (beta): two rows, GPU 200 then 300 W.
 */
function fixture(): EmissionsData[] {
  const a = [
    data('alpha', 'run-a', 10, { cpu: 200, gpu: 0, ram: 50 }, 50),
    data('alpha', 'run-a', 20, { cpu: 600, gpu: 0, ram: 100 }, 50),
    data('alpha', 'run-a', 30, { cpu: 700, gpu: 0, ram: 150 }, 50),
  ];
  const b = [data('alpha', 'run-b', 5, { cpu: 150, gpu: 500, ram: 25 }, 50)];
  const c = [data('beta', 'run-c', 4, { cpu: 0, gpu: 800, ram: 0 }, 400), data('beta', 'run-c', 8, { cpu: 0, gpu: 2000, ram: 0 }, 400)];
  return [...a, ...b, ...c];
}

function writeCsv(dir: string, rows: EmissionsData[]): string {
  const file = join(dir, 'emissions.csv');
  writeFileSync(file, [CSV_COLUMNS, ...rows.map(toCsvRow)].map((r) => formatCsvLine(r)).join(''));
  return file;
}

function writeJsonl(dir: string, rows: EmissionsData[]): string {
  const file = join(dir, 'emissions.jsonl');
  writeFileSync(file, rows.map((r) => `${JSON.stringify(toJsonRecord(r, { phase: 'flush', onCsvWrite: 'append' }))}\n`).join(''));
  return file;
}

/** A wattprint-report.json (docs/report-schema.json) reduced to what the CLI reads: 10 calls, two names. */
function reportFixture() {
  return {
    schemaVersion: '1.0.0',
    run: { projectName: 'svc', experimentId: 'e', experimentName: 'base', runId: 'run-r', startTime: '2026-01-01T00:00:00.000Z', endTime: null, durationS: 60, trackingMode: 'process' },
    operationalConditions: { pue: 1, location: { countryName: 'France', region: null }, carbonIntensity: { gPerKWh: 200, source: 'test', year: 2023 } },
    results: {
      run: { energyJ: 3600, cpuEnergyJ: 2400, gpuEnergyJ: 0, ramEnergyJ: 1200, emissionsKg: 0.0002, waterL: 0 },
      perRequest: { requests: 10, meanEnergyJ: 2, requestsPerKWh: 1.8e6, meanEmissionsKg: 1.11e-7 },
      calls: {
        count: 10, energyJ: 20, meanEnergyJ: 2, p50EnergyJ: 1.8, p95EnergyJ: 3.5, meanEmissionsKg: 1.11e-7, requestsPerKWh: 1.8e6,
        energyHistogramJ: [
          { lowJ: 1, highJ: 1.5, count: 3 },
          { lowJ: 1.5, highJ: 2.5, count: 5 },
          { lowJ: 2.5, highJ: 4, count: 2 },
        ],
      },
      byName: [
        { name: 'chat', count: 7, energyJ: 16, meanEnergyJ: 16 / 7, p50EnergyJ: 2, p95EnergyJ: 3.5 },
        { name: 'embed', count: 3, energyJ: 4, meanEnergyJ: 4 / 3, p50EnergyJ: 1.2, p95EnergyJ: 1.6 },
      ],
    },
  };
}

/** A timeline line of run `runId` (project alpha): the interval [t0, t] at the given powers (W). */
function sample(runId: string, t0: number, t: number, w: { cpu: number; gpu: number; ram: number }, kinds = { cpu: 'measured', gpu: 'none', ram: 'estimated' }) {
  const s = t - t0;
  const j = { cpu: w.cpu * s, gpu: w.gpu * s, ram: w.ram * s };
  const e = j.cpu + j.gpu + j.ram;
  return {
    type: 'sample', project_name: 'alpha', run_id: runId, timestamp: `2026-01-01T00:00:${String(t).padStart(2, '0')}.000Z`, t0_s: t0, t_s: t,
    cpu_energy_j: j.cpu, gpu_energy_j: j.gpu, ram_energy_j: j.ram, energy_j: e, cpu_power_w: w.cpu, gpu_power_w: w.gpu, ram_power_w: w.ram,
    intensity_g_per_kwh: 50, emissions_kg: (e / J) * 0.05, kinds,
  };
}

/** Six 5 s samples of run A (CPU 20, 20, 40, 40, 10, 10 W; RAM 5 W estimated) and per-call buckets. */
function timelineFixture(): object[] {
  const cpu = [20, 20, 40, 40, 10, 10];
  const bounds = [0.01, 0.0316, 0.1, 0.316, 1, 3.16, 10, 31.6, 100, 316, 1000, 3160, 10000];
  const counts = new Array(14).fill(0);
  counts[3] = 3; // (0.1, 0.316]
  counts[5] = 5; // (1, 3.16]
  counts[13] = 1; // > 10 kJ
  return [
    ...cpu.map((w, i) => sample('run-a', i * 5, i * 5 + 5, { cpu: w, gpu: 0, ram: 5 })),
    { type: 'calls', project_name: 'alpha', run_id: 'run-a', timestamp: '2026-01-01T00:00:30.000Z', bucket_bounds_j: bounds, calls: [{ name: 'infer', count: 9, energy_j: 12000, counts }] },
  ];
}

function writeTimeline(dir: string, lines: object[], name = 'timeline.jsonl'): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return file;
}

describe('wattprint report (terminal summary)', () => {
  it('gives totals per project and run, the energy split, g/kWh and a project total', async () => {
    const file = writeCsv(tempDir(), fixture());
    const r = await runCli(['report', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wattprint report: ${file} (csv, 6 rows, 3 runs in 2 projects)`);
    const lines = r.stdout.split('\n');
    const line = (start: RegExp) => lines.find((l) => start.test(l)) ?? '';
    // One unit per column, named in the header (the project total, 0.424 Wh and 21.2 mg, picks it).
    expect(lines[lines.findIndex((l) => l.startsWith('project alpha')) + 1]).toMatch(/^ {2}run\s+first row at\s+rows\s+duration\s+energy \(Wh\)\s+cpu\s+gpu\s+ram\s+CO2eq \(mg\)\s+g\/kWh$/);
    // Run A: 850 J = 0.236 Wh, CPU 700/850 = 82 %, RAM 18 %, 50 g/kWh.
    expect(line(/^ {2}run-a /)).toMatch(/run-a\s+2026-01-01T00:00:10\s+3\s+30 s\s+0\.236\s+82 %\s+0 %\s+18 %\s+11\.8\s+50$/);
    // Run B: 675 J, GPU 74 %.
    expect(line(/^ {2}run-b /)).toMatch(/run-b\s+\S+\s+1\s+5 s\s+0\.188\s+22 %\s+74 %\s+3\.7 %\s+9\.38\s+50$/);
    // Project alpha total: 1525 J = 0.424 Wh.
    expect(lines[lines.findIndex((l) => l.startsWith('project alpha')) + 4]).toMatch(/^ {2}total\s+4\s+35 s\s+0\.424\s/);
    // Project beta: 2000 J = 0.556 Wh, 222 mg at 400 g/kWh.
    expect(line(/^ {2}run-c /)).toMatch(/run-c\s+\S+\s+2\s+8 s\s+0\.556\s+0 %\s+100 %\s+0 %\s+222\s+400$/);
    // Equivalents: 0.222 g CO2eq / 250.4 g per km; 2000 J / 0.01159 kWh per charge.
    const beta = lines.slice(lines.findIndex((l) => l.startsWith('project beta')));
    expect(beta.find((l) => l.includes('km by car'))).toBe(`  ≈ ${Number((0.2222 / 250.4).toPrecision(3))} km by car (same CO2eq), ${Number((2000 / 3.6e6 / (8.22e-6 / 7.09e-4)).toPrecision(3))} smartphone charges (same energy)`);
    expect(r.stdout).toContain('US EPA Greenhouse Gas Equivalencies Calculator');
    // A CSV does not say what was estimated: no marks.
    expect(r.stdout).not.toContain('*');
  });

  it('round-trips project names that CSV must quote or guard against formulas', async () => {
    const name = '=evil, "quoted" project';
    const dir = tempDir();
    const csv = await runCli(['report', writeCsv(dir, [data(name, 'run-q', 3, { cpu: 30, gpu: 0, ram: 0 }, 100)])]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toContain(`project ${name} (1 run)`);
    const jsonl = await runCli(['report', writeJsonl(dir, [data(name, 'run-q', 3, { cpu: 30, gpu: 0, ram: 0 }, 100)])]);
    expect(jsonl.stdout).toContain(`project ${name} (1 run)`);
  });

  it('reads emissions.jsonl the same way, and marks the components its boundary says were estimated', async () => {
    const dir = tempDir();
    const csv = await runCli(['report', writeCsv(dir, fixture())]);
    const jsonl = await runCli(['report', writeJsonl(dir, fixture())]);
    expect(jsonl.code).toBe(0);
    // The fixture's boundary: CPU from cpu-tdp and RAM from ram-dimm (estimated), GPU from NVML.
    expect(jsonl.stdout).toMatch(/^ {2}run-b\s+\S+\s+1\s+5 s\s+0\.188\s+22 %\*\s+74 %\s+3\.7 %\*\s+9\.38\s+50$/m);
    expect(jsonl.stdout).toMatch(/^ {2}run-c\s+\S+\s+2\s+8 s\s+0\.556\s+0 %\s+100 %\s+0 %\s+222\s+400$/m);
    expect(jsonl.stdout).toContain('  * estimated from a model');
    const body = (s: string) =>
      s
        .split('\n')
        .slice(1)
        .filter((l) => !l.includes('* estimated'))
        .map((l) => l.replaceAll('*', '').replace(/\s+/g, ' ').trimEnd())
        .join('\n');
    expect(body(jsonl.stdout)).toBe(body(csv.stdout));
  });

  it('reads a timeline alone: run totals from its samples, the per-request distribution from its buckets', async () => {
    const file = writeTimeline(tempDir(), timelineFixture());
    const r = await runCli(['report', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wattprint report: ${file} (timeline, 0 rows, 6 samples, 1 run in 1 project)`);
    // 5 s × (20+20+40+40+10+10) W = 700 J CPU, 150 J RAM (estimated): the same totals as run A's rows.
    expect(r.stdout).toMatch(/^ {2}run-a\s+2026-01-01T00:00:05\.000Z\s+0\s+30 s\s+0\.236\s+82 %\s+0 %\s+18 %\*\s+11\.8\s+50$/m);
    expect(r.stdout).toMatch(/^ {2}infer\s+9\s+0\.37\s+–\s+–\s+–\s+–$/m); // 12 kJ / 9 in Wh
    expect(r.stdout).toContain('  distribution of infer');
    expect(r.stdout).toMatch(/^ {4}0\.1 – 0\.316\s+3\s+#+$/m);
    expect(r.stdout).toMatch(/^ {4}1 – 3\.16\s+5\s+#{30}$/m);
    expect(r.stdout).toMatch(/^ {4}10000 – \+∞\s+1\s+#+$/m);
  });

  it('reads a CSV and its timeline together: one run, totals from the rows', async () => {
    const dir = tempDir();
    const csv = writeCsv(dir, fixture());
    const timeline = writeTimeline(dir, timelineFixture());
    const r = await runCli(['report', csv, timeline]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wattprint report: ${csv}, ${timeline} (csv + timeline, 6 rows, 6 samples, 3 runs in 2 projects)`);
    // The timeline says RAM was estimated, which the CSV could not.
    expect(r.stdout).toMatch(/^ {2}run-a\s+2026-01-01T00:00:10\s+3\s+30 s\s+0\.236\s+82 %\s+0 %\s+18 %\*\s+11\.8\s+50$/m);
  });

  it('exits 2 naming the line of a broken timeline', async () => {
    const dir = tempDir();
    const bad = { ...sample('run-x', 0, 5, { cpu: 1, gpu: 0, ram: 0 }), cpu_power_w: 'x' };
    const r = await runCli(['report', writeTimeline(dir, [sample('run-x', 0, 5, { cpu: 1, gpu: 0, ram: 0 }), bad])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/timeline\.jsonl:2: 'cpu_power_w' is not a number \("x"\)/);
  });

  it('exits 2 with one line for a missing file or a file that is not an output of wattprint', async () => {
    const dir = tempDir();
    const missing = await runCli(['report', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`wattprint: cannot read ${join(dir, 'nope.csv')}: no such file\n`);
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'a,b\n1,2\n');
    const bad = await runCli(['report', other]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^wattprint: .*other\.csv: no 'duration' column in the header; expected emissions\.csv/);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe.skipIf(!hasChromium)('wattprint report --html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => browser?.close());

  /** Loads a page and returns it with the console errors and every request it made. */
  async function open(file: string) {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  it('draws power over time per run, energy and emissions per run, self-contained', async () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    const r = await runCli(['report', writeCsv(dir, fixture()), '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wattprint: wrote ${html}\n`);
    const text = readFileSync(html, 'utf8');
    // Only fragment references (the hatch patterns) may use url().
    expect(text).not.toMatch(/<script|<link|@import|url\((?!#)|src=/i);

    const { page, errors, requests } = await open(html);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(html).href]);

    const power = await page.$$eval('svg[data-chart="power"]', (svgs) =>
      svgs.map((s) => ({
        run: s.getAttribute('data-run'),
        series: [...s.querySelectorAll('path[data-series]')].map((p) => p.getAttribute('data-series')),
        points: Object.fromEntries(
          [...new Set([...s.querySelectorAll('circle[data-series]')].map((c) => c.getAttribute('data-series')!))].map((k) => [
            k,
            [...s.querySelectorAll(`circle[data-series="${k}"]`)].map((c) => [Number(c.getAttribute('data-x')), Number(c.getAttribute('data-y'))]),
          ]),
        ),
      })),
    );
    expect(power.map((p) => p.run)).toEqual(['run-a', 'run-b', 'run-c']);
    expect(power[0]!.series).toEqual(['cpu', 'ram']);
    const close = (got: number[][], want: number[][]) => got.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 9)));
    close(power[0]!.points.cpu!, [[10, 20], [20, 40], [30, 10]]);
    close(power[0]!.points.ram!, [[10, 5], [20, 5], [30, 5]]);
    expect(power[1]!.series).toEqual(['cpu', 'gpu', 'ram']);
    close(power[1]!.points.gpu!, [[5, 100]]);
    expect(power[2]!.series).toEqual(['gpu']);
    close(power[2]!.points.gpu!, [[4, 200], [8, 300]]);

    const energy = await page.$$eval('svg[data-chart="energy-per-run"] g[data-category]', (gs) =>
      gs.map((g) => ({ run: g.getAttribute('data-category'), bars: [...g.querySelectorAll('rect')].map((x) => [x.getAttribute('data-series'), Number(x.getAttribute('data-value'))]) })),
    );
    // Largest run total 2000 J = 0.556 Wh: the chart is in Wh.
    expect(energy.map((e) => e.run)).toEqual(['run-a', 'run-b', 'run-c']);
    expect(energy[0]!.bars.map((b) => b[0])).toEqual(['cpu', 'ram']);
    expect(energy[0]!.bars[0]![1]).toBeCloseTo(700 / 3600, 9);
    expect(energy[1]!.bars.map((b) => b[0])).toEqual(['cpu', 'gpu', 'ram']);
    expect(energy[2]!.bars).toHaveLength(1);
    expect(energy[2]!.bars[0]![1]).toBeCloseTo(2000 / 3600, 9);

    const emissions = await page.$$eval('svg[data-chart="emissions-per-run"] rect[data-value]', (rs) => rs.map((x) => Number(x.getAttribute('data-value'))));
    // mg CO2eq: run C = 2000 J × 400 g/kWh.
    expect(emissions).toHaveLength(3);
    expect(emissions[2]).toBeCloseTo(((2000 / J) * 400) * 1000, 6);
    expect(await page.$$('svg[data-chart^="request-energy"]')).toHaveLength(0);
    // Every chart is drawn with a real size.
    const sizes = await page.$$eval('svg[data-chart]', (svgs) => svgs.map((s) => s.getBoundingClientRect().height));
    for (const h of sizes) expect(h).toBeGreaterThan(100);
  });

  it('draws the per-request energy histogram of a report that carries buckets, and quantiles per call name', async () => {
    const dir = tempDir();
    const file = join(dir, 'wattprint-report.json');
    writeFileSync(file, JSON.stringify(reportFixture()));
    const html = join(dir, 'report.html');
    const r = await runCli(['report', file, '--html', html]);
    expect(r.code).toBe(0);
    // 'all requests' (with perRequest's requests/kWh), then one line per name; one unit per column.
    expect(r.stdout).toMatch(/^ {2}requests\s+count\s+mean energy \(J\)\s+p50\s+p95\s+CO2eq per request \(mg\)\s+requests per kWh$/m);
    expect(r.stdout).toMatch(/^ {2}all requests\s+10\s+2\s+1\.8\s+3\.5\s+0\.111\s+1800000$/m);
    expect(r.stdout).toMatch(/^ {2}chat\s+7\s+2\.29\s+2\s+3\.5\s+–\s+–$/m);
    expect(r.stdout).toMatch(/^ {2}embed\s+3\s+1\.33\s/m);
    const { page, errors } = await open(html);
    expect(errors).toEqual([]);
    const hist = await page.$$eval('svg[data-chart="request-energy"] rect[data-bin]', (rs) =>
      rs.map((x) => [Number(x.getAttribute('data-from')), Number(x.getAttribute('data-to')), Number(x.getAttribute('data-count'))]),
    );
    expect(hist).toEqual([
      [1, 1.5, 3],
      [1.5, 2.5, 5],
      [2.5, 4, 2],
    ]);
    const names = await page.$$eval('svg[data-chart^="request-energy"]', (svgs) => svgs.map((x) => [x.getAttribute('data-chart'), x.getAttribute('data-name')]));
    expect(names).toEqual([
      ['request-energy', 'all requests'],
      ['request-energy-quantiles', 'chat'],
      ['request-energy-quantiles', 'embed'],
    ]);
  });

  it('draws the per-request energy of a wattprint-report.json written by a tracker that wrapped calls', async () => {
    const out = tempDir();
    const tracker = new EmissionsTracker({ outputDir: out, saveToJson: true, measurePowerSecs: 0.05, native: false, handleSignals: false, countryIsoCode: 'FRA', forceCpuPowerW: 50 });
    tracker.start();
    const infer = tracker.wrap(async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      return ms;
    }, { name: 'infer' });
    for (let i = 0; i < 6; i++) await infer(20 + 10 * i);
    // Calls are attributed at the next sample; let one happen before stopping.
    await new Promise((r) => setTimeout(r, 300));
    await tracker.stop();
    const reportFile = join(out, 'wattprint-report.json');
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const html = join(out, 'report.html');
    const r = await runCli(['report', reportFile, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(report, 1 row, 1 run in 1 project)');
    expect(r.stdout).toMatch(/^ {2}requests\s+count\s+mean energy \((J|Wh)\)\s+p50\s+p95\s+CO2eq per request \((mg|g)\)\s+requests per kWh$/m);
    expect(r.stdout).toMatch(/^ {2}all requests\s+6\s+[\d.]+\s/m);

    const { page, errors, requests } = await open(html);
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    const charts = await page.$$('svg[data-chart^="request-energy"]');
    expect(charts).toHaveLength(1);
    const kind = await charts[0]!.getAttribute('data-chart');
    if (kind === 'request-energy') {
      // A histogram from the report's buckets: the counts add up to the requests.
      const counts = await page.$$eval('svg[data-chart="request-energy"] rect[data-count]', (rs) => rs.map((x) => Number(x.getAttribute('data-count'))));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
    } else {
      // Quantiles only: mean, p50 and p95 bars with the report's values.
      const bars = await page.$$eval('svg[data-chart="request-energy-quantiles"] g[data-category]', (gs) =>
        gs.map((g) => [g.getAttribute('data-category'), Number(g.querySelector('rect')?.getAttribute('data-value') ?? NaN)]),
      );
      expect(bars.map((b) => b[0])).toEqual(['mean', 'p50', 'p95']);
      const calls = report.results.calls;
      const unit = Math.max(calls.meanEnergyJ, calls.p50EnergyJ, calls.p95EnergyJ) >= 1 ? 1 : 1000;
      expect(bars[0]![1]).toBeCloseTo(calls.meanEnergyJ * unit, 9);
      expect(bars[2]![1]).toBeCloseTo(calls.p95EnergyJ * unit, 9);
    }
    // The run itself: one row, so one power chart with one point per accounted component.
    expect(await page.$$('svg[data-chart="power"]')).toHaveLength(1);
  });

  it('draws the timeline, marks estimated components dashed and hatched, and totals per project with equivalents', async () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    const r = await runCli(['report', writeJsonl(dir, fixture()), writeTimeline(dir, timelineFixture()), '--html', html]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|<link|@import|url\((?!#)|src=/i);
    const { page, errors, requests } = await open(html);
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);

    // Run A's power comes from its six samples, RAM (estimated) dashed.
    const a = await page.$eval('svg[data-chart="power"][data-run="run-a"]', (s) => ({
      from: s.getAttribute('data-from'),
      cpu: [...s.querySelectorAll('circle[data-series="cpu"]')].map((c) => [Number(c.getAttribute('data-x')), Number(c.getAttribute('data-y'))]),
      dashed: [...s.querySelectorAll('path[data-estimated="true"]')].map((p) => [p.getAttribute('data-series'), p.getAttribute('stroke-dasharray')]),
      legend: [...s.parentElement!.querySelectorAll('.legend li')].map((li) => li.textContent),
    }));
    expect(a.from).toBe('samples');
    expect(a.cpu).toEqual([[5, 20], [10, 20], [15, 40], [20, 40], [25, 10], [30, 10]]);
    // The JSONL's boundary (cpu-tdp, ram-dimm: estimated) wins over the timeline's kinds for the run.
    expect(a.dashed.map((d) => d[0])).toEqual(['cpu', 'ram']);
    expect(a.dashed[0]![1]).toBeTruthy();
    expect(a.legend).toEqual(['CPU (estimated)', 'RAM (estimated)']);
    // Run C (GPU from NVML, measured) is solid.
    expect(await page.$$('svg[data-chart="power"][data-run="run-c"] path[data-estimated]')).toHaveLength(0);

    // Bars of estimated components are hatched with the page's pattern, and the pattern renders.
    const bars = await page.$$eval('svg[data-chart="energy-per-run"] g[data-category="run-b"] rect', (rs) =>
      rs.map((x) => [x.getAttribute('data-series'), x.getAttribute('data-estimated'), x.getAttribute('fill')]),
    );
    expect(bars).toEqual([
      ['cpu', 'true', 'url(#hatch-cpu)'],
      ['gpu', null, '#e45756'],
      ['ram', 'true', 'url(#hatch-ram)'],
    ]);
    expect(await page.$$eval('pattern#hatch-cpu line', (ls) => ls.length)).toBe(1);

    // Totals per project, one unit per column, with equivalents; estimated shares marked in the runs table.
    const head = await page.$eval('tr[data-project]', (tr) => [...tr.closest('table')!.querySelectorAll('thead th')].map((t) => t.textContent));
    expect(head).toEqual(['project', 'runs', 'duration', 'energy (Wh)', 'CPU', 'GPU', 'RAM', 'CO2eq (mg)', 'km by car', 'phone charges']);
    const projects = await page.$$eval('tr[data-project]', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // alpha: runs A and B, 850 + 675 J = 0.424 Wh, 21.2 mg; beta: 2000 J, 222 mg.
    expect(projects[0]!.slice(0, 4)).toEqual(['alpha', '2', '35 s', '0.424']);
    expect(projects[0]![7]).toBe('21.2');
    expect(Number(projects[1]![8])).toBeCloseTo(0.2222 / (403 / 1.609344), 6);
    expect(Number(projects[1]![9])).toBeCloseTo(2000 / 3.6e6 / (8.22e-6 / 7.09e-4), 2);
    const estCells = await page.$$eval('tr[data-run="run-b"] td.est', (tds) => tds.map((t) => t.textContent));
    expect(estCells).toEqual(['22 %*', '3.7 %*']);
    const eq = await page.$eval('[data-equivalents]', (p) => [Number(p.getAttribute('data-car-km')), Number(p.getAttribute('data-phone-charges'))]);
    expect(eq[0]).toBeCloseTo((((1525 / J) * 50 + (2000 / J) * 400) * 1000) / (403 / 1.609344) / 1000, 9);
    expect(eq[1]).toBeCloseTo((3525 / J) / (8.22e-6 / 7.09e-4), 6);
    expect(text).toContain('US EPA Greenhouse Gas Equivalencies Calculator');

    // The per-request distribution from the timeline's buckets, the overflow bucket open-ended.
    const chart = await page.$('svg[data-chart="request-energy"][data-name="infer"]');
    expect(await chart!.evaluate((s) => s.closest('figure')!.querySelector('figcaption')!.textContent)).toContain('(9 requests, Wh)');
    const hist = await chart!.$$eval('rect[data-bin]', (rs) => rs.map((x) => [Number(x.getAttribute('data-from')), Number(x.getAttribute('data-to')), Number(x.getAttribute('data-count'))]));
    // Bins in Wh (the largest bound, 10 kJ, is 2.8 Wh), from the first to the last non-empty bucket.
    expect(hist[0]![0]! * 3600).toBeCloseTo(0.1, 9);
    expect(hist[0]![1]! * 3600).toBeCloseTo(0.316, 9);
    expect(hist[0]![2]).toBe(3);
    expect(hist.at(-1)![0]! * 3600).toBeCloseTo(10000, 6);
    expect(hist.at(-1)![1]).toBe(Infinity);
    expect(hist.at(-1)![2]).toBe(1);
    expect(hist.reduce((a, b) => a + b[2]!, 0)).toBe(9);
  });
});
