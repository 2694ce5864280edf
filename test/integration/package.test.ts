// Runs the built package (dist/) in child processes, from ESM and CJS, as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const dist = join(root, 'dist');

beforeAll(() => {
  // test/global-setup.ts builds dist/ when it is stale.
  expect(existsSync(join(dist, 'index.cjs')), 'dist/ is missing: run npm run build').toBe(true);
});

function run(file: string, code: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-int-'));
  const path = join(dir, file);
  writeFileSync(path, code.replaceAll('OUT', JSON.stringify(dir)));
  const r = spawnSync(process.execPath, [path], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { ...r, dir };
}

const body = `
  const t = new EmissionsTracker({ projectName: 'int', countryIsoCode: 'DEU', measurePowerSecs: 0.2, outputDir: OUT, saveToJson: true });
  t.start();
  const end = Date.now() + 600; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);
  const d = await t.stop();
  console.log(JSON.stringify({ d, tdp: lookupCpuTdp('AMD EPYC 7763 64-Core Processor'), gi: gridIntensity({ countryIsoCode: 'DEU' }) }));
`;

describe('built package', () => {
  it('runs from ESM', () => {
    const r = run('esm.mjs', `import { EmissionsTracker, lookupCpuTdp, gridIntensity } from ${JSON.stringify(join(dist, 'index.js'))}; ${body}`);
    expect(r.stderr).not.toMatch(/Error/);
    const { d, tdp, gi } = JSON.parse(r.stdout);
    expect(d.durationS).toBeGreaterThan(0.55);
    expect(d.cpuEnergyKWh).toBeGreaterThan(0);
    expect(d.countryIsoCode).toBe('DEU');
    expect(d.intensityGPerKWh).toBe(gi.gPerKWh);
    expect(tdp.tdpW).toBeGreaterThan(0);
    const csv = readFileSync(join(r.dir, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(2);
    const jsonl = readFileSync(join(r.dir, 'emissions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl[0].boundary.cpu.source).toBe(d.boundary.cpu.source);
    expect(existsSync(join(r.dir, 'wattprint-report.json'))).toBe(true);
  });

  it('runs from CJS', () => {
    const r = run('cjs.cjs', `const { EmissionsTracker, lookupCpuTdp, gridIntensity } = require(${JSON.stringify(join(dist, 'index.cjs'))}); (async () => { ${body} })();`);
    expect(r.stderr).not.toMatch(/Error/);
    const { d } = JSON.parse(r.stdout);
    expect(d.cpuEnergyKWh).toBeGreaterThan(0);
    expect(d.trackerVersion).toBe(`wattprint ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}`);
  });

  it('never holds up the process exit, and writes a final row at exit', () => {
    const t0 = Date.now();
    const r = run('exit.mjs', `import { EmissionsTracker } from ${JSON.stringify(join(dist, 'index.js'))};
      const t = new EmissionsTracker({ countryIsoCode: 'FRA', measurePowerSecs: 5, outputDir: OUT });
      t.start();
      setTimeout(() => {}, 300);`);
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(4000);
    const csv = readFileSync(join(r.dir, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(Number(csv[1]!.split(',')[4])).toBeGreaterThan(0.25);
  });

  it('writes a whole final row on SIGTERM and still dies of the signal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-sig-'));
    const file = join(dir, 'sig.mjs');
    writeFileSync(
      file,
      `import { EmissionsTracker } from ${JSON.stringify(join(dist, 'index.js'))};
       const t = new EmissionsTracker({ countryIsoCode: 'FRA', measurePowerSecs: 60, outputDir: ${JSON.stringify(dir)} });
       t.start(); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('exit', (c, s) => res([c, s])));
    expect(code).toBeNull();
    expect(signal).toBe('SIGTERM');
    const csv = readFileSync(join(dir, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]!.split(',')).toHaveLength(38);
  });
});

describe('the README demo (examples/demo.mjs)', () => {
  it('tracks the shipped workload and prints what it measured', () => {
    const out = mkdtempSync(join(tmpdir(), 'wattprint-demo-'));
    const r = spawnSync(process.execPath, [join(root, 'examples', 'demo.mjs'), '--seconds', '0.4', '--out', out, '--country', 'DEU'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cpu: \S+ \((measured|estimated)\)/);
    expect(r.stdout).toMatch(/sha256: \d+ MiB hashed in 0\.\d+ s, \d+\.\d J/);
    expect(r.stdout).toMatch(/intensity: 380\.95 g\/kWh/);
    const rows = readFileSync(join(out, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(3); // header, the flush at start, the final row
    expect(existsSync(join(out, 'wattprint-report.json'))).toBe(true);
  });
});
