import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker, type EmissionsTrackerOptions } from '../../src/index.js';
import { platformString } from '../../src/hardware.js';
import { CSV_COLUMNS, readCsv } from '../../src/reporters/index.js';
import { FakePowerSource, ManualClock } from '../../src/testing/index.js';
import { makeProcfs } from '../system/procfs-fixture.js';

const GIB = 1024 ** 3;

/** A meminfo where psutil's `used` and total − available differ by 13 %, as on a machine with page cache. */
const MEMINFO = [
  'MemTotal:       24683792 kB',
  'MemFree:        12123368 kB',
  'MemAvailable:   19226832 kB',
  'Buffers:           24900 kB',
  'Cached:          6178428 kB',
  'SReclaimable:     216604 kB',
  '',
].join('\n');

/** One CSV row written by a real tracker run with fixed hardware, for these options. */
async function csvRowOf(options: EmissionsTrackerOptions): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-parity-'));
  const proc = makeProcfs();
  proc.write('meminfo', MEMINFO);
  proc.stat([100, 0, 100, 800, 0, 0, 0, 0, 0, 0]);
  const clock = new ManualClock(0);
  const tracker = new EmissionsTracker({
    sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 40, clock })], gpu: [], ram: [] },
    outputDir: dir,
    procfsRoot: proc.root,
    handleSignals: false,
    clock: clock.now,
    ...options,
  });
  tracker.start();
  clock.advance(60_000);
  await tracker.stop();
  const rows = readCsv(join(dir, 'emissions.csv'));
  expect(rows).toHaveLength(1);
  expect(Object.keys(rows[0]!)).toEqual(CSV_COLUMNS);
  return rows[0]!;
}

describe('CSV columns as CodeCarbon 3.x writes them for the same input', () => {
  it("experiment_id defaults to CodeCarbon's id; region is lower-case; a zone of another country is ignored", async () => {
    const row = await csvRowOf({ countryIsoCode: 'DEU', region: 'NO2' });
    expect(row.experiment_id).toBe('5b0fa12a-3dd7-45bb-9766-cc326314d9f1');
    expect(row).toMatchObject({ country_name: 'Germany', country_iso_code: 'DEU', region: 'no2', on_cloud: 'N', cloud_provider: '' });
    // 40 W for 60 s at Germany's 380.95 g/kWh, not NO2's 18.
    expect(Number(row.emissions)).toBeCloseTo((40 * 60 * 380.95) / 3.6e9, 15);
    const nor = await csvRowOf({ countryIsoCode: 'NOR', region: 'NO2' });
    expect(nor).toMatchObject({ country_name: 'Norway', region: 'no2' });
    expect(Number(nor.emissions)).toBeCloseTo((40 * 60 * 18) / 3.6e9, 15);
  });

  it('a forced intensity keeps the country name and the lower-case region of the options', async () => {
    const row = await csvRowOf({ countryIsoCode: 'usa', region: 'California', forceCarbonIntensityGPerKWh: 100 });
    expect(row).toMatchObject({ country_name: 'United States', country_iso_code: 'USA', region: 'california' });
    expect(Number(row.emissions)).toBeCloseTo((40 * 60 * 100) / 3.6e9, 15);
  });

  it("ram_used_gb is psutil's used, not total − available", async () => {
    const row = await csvRowOf({ countryIsoCode: 'FRA' });
    expect(Number(row.ram_used_gb)).toBeCloseTo((6140492 * 1024) / GIB, 12);
    expect(Number(row.ram_utilization_percent)).toBeCloseTo((100 * (24683792 - 19226832)) / 24683792, 9);
  });

  it("GCP rows carry impact.csv's country name and state (an empty cell where the row has none)", async () => {
    expect(await csvRowOf({ cloudProvider: 'gcp', cloudRegion: 'us-central1' })).toMatchObject({
      country_name: 'USA',
      country_iso_code: 'USA',
      region: 'Iowa',
      cloud_provider: 'gcp',
      cloud_region: 'us-central1',
      on_cloud: 'Y',
    });
    expect(await csvRowOf({ cloudProvider: 'gcp', cloudRegion: 'asia-northeast3' })).toMatchObject({ country_name: 'Korea', region: 'South Korea' });
    expect(await csvRowOf({ cloudProvider: 'gcp', cloudRegion: 'europe-west9' })).toMatchObject({ country_name: 'France', region: '' });
  });

  it('python_version holds the runtime version in the same form, without a v', async () => {
    expect((await csvRowOf({ countryIsoCode: 'FRA' })).python_version).toBe(process.versions.node);
    expect(process.versions.node).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("os is Python's platform.platform()", async () => {
    const row = await csvRowOf({ countryIsoCode: 'FRA' });
    expect(row.os).toBe(platformString());
    if (process.platform === 'linux') expect(row.os).toMatch(/^Linux-[^ ]+-(x86_64|aarch64|arm64|ppc64le|s390x|riscv64)-with(-glibc\d+\.\d+)?$/);
    let python: string | undefined;
    try {
      python = execFileSync('python3', ['-c', 'import platform; print(platform.platform())'], { encoding: 'utf8' }).trim();
    } catch {
      // No Python here: the pattern above is the check.
    }
    if (python !== undefined) expect(row.os).toBe(python);
  });
});
