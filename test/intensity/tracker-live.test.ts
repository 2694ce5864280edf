import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { prometheusMetrics } from '../../src/exporters/prometheus.js';
import { createIntensityChain, electricityMapsProvider, ukCarbonIntensityProvider, wattTimeProvider } from '../../src/intensity/index.js';
import { EmissionsTracker } from '../../src/tracker.js';
import type { EmissionsTrackerOptions } from '../../src/options.js';
import { FakePowerSource, InMemoryReporter, ManualClock } from '../../src/testing/index.js';
import type { Measurement, WattprintWarning } from '../../src/types.js';
import { emLatest, fakeApi, json, text, until, type FakeApi } from './fake-apis.js';

const HOUR_MS = 3_600_000;
const apis: FakeApi[] = [];
afterEach(async () => {
  for (const a of apis.splice(0)) await a.close();
});
/** A tracker on a 100 W fake CPU writing CSV, JSONL and the run report to a fresh folder. */
function fileTracker(options: EmissionsTrackerOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-int-'));
  const clock = new ManualClock(0);
  const tracker = new EmissionsTracker({
    sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 100, clock })], gpu: [], ram: [] },
    outputDir: dir,
    saveToJson: true,
    handleSignals: false,
    clock: clock.now,
    ...options,
  });
  return { dir, clock, tracker };
}
async function api(handler: Parameters<typeof fakeApi>[0]) {
  const a = await fakeApi(handler);
  apis.push(a);
  return a;
}

describe('the tracker with a live provider', () => {
  it('start() stays synchronous and offline; the live value applies from the moment it arrives', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = await api(async (_req, res) => {
      await gate;
      json(res, 200, emLatest('FR', 300));
    });
    const clock = new ManualClock(0);
    const cpu = new FakePowerSource({ component: 'cpu', powerW: 1000, clock });
    const out = new InMemoryReporter();
    const t = new EmissionsTracker({
      sources: { cpu: [cpu], gpu: [], ram: [] },
      reporters: [out],
      saveToFile: false,
      handleSignals: false,
      clock: clock.now,
      measurePowerSecs: 3600,
      countryIsoCode: 'FRA',
      intensityProvider: electricityMapsProvider({ token: 'tok-abc', baseUrl: a.url }),
    });
    const measurements: Measurement[] = [];
    t.on('measurement', (m) => measurements.push(m));
    t.start();
    expect(a.seen).toHaveLength(0); // nothing sent from inside start()
    await until(() => a.seen.length === 1, 3000, 'request');
    clock.advance(HOUR_MS); // 1 kWh under the offline value (FRA 56.039 g/kWh)
    release();
    await until(() => measurements.length === 1, 3000, 'sample at arrival');
    expect(measurements[0]).toMatchObject({ intensityGPerKWh: 56.039 });
    expect(measurements[0]!.energyJ).toBeCloseTo(3.6e6, 6);
    clock.advance(HOUR_MS); // 1 kWh under the live value
    const data = await t.stop();
    // Σ ΔE × CI(t): 1 kWh × 56.039 + 1 kWh × 300 g. Applying the live value only at the next sample would give 600 g.
    expect(data.emissionsKg).toBeCloseTo((56.039 + 300) / 1000, 12);
    expect(data).toMatchObject({
      intensityGPerKWh: 300,
      intensitySource: 'Electricity Maps lifecycle average (estimated)',
      intensityProvider: 'electricity-maps',
      intensityZone: 'FR',
      intensityFreshness: 'live',
      intensityYear: 2026,
      countryIsoCode: 'FRA',
      countryName: 'France',
    });
  });

  it('without a live value, rows name the offline data with its year; CSV keeps the CodeCarbon columns', async () => {
    const { dir, clock, tracker: t } = fileTracker({ countryIsoCode: 'DEU' });
    t.start();
    clock.advance(1000);
    await t.stop();
    const rec = JSON.parse(readFileSync(join(dir, 'emissions.jsonl'), 'utf8').trim().split('\n').at(-1)!);
    expect(rec).toMatchObject({ intensity_g_per_kwh: 380.95, intensity_provider: 'offline', intensity_zone: 'DEU', intensity_freshness: 'offline', intensity_year: 2023 });
    const header = readFileSync(join(dir, 'emissions.csv'), 'utf8').split('\n')[0]!;
    expect(header).not.toMatch(/intensity/);
    const report = JSON.parse(readFileSync(join(dir, 'wattprint-report.json'), 'utf8'));
    expect(report.operationalConditions.carbonIntensity).toEqual({
      gPerKWh: 380.95,
      source: 'Our World in Data via CodeCarbon (2023)',
      year: 2023,
      provider: 'offline',
      zone: 'DEU',
      freshness: 'offline',
      signal: null,
      emissionFactor: null,
      locationSource: 'options',
    });
  });

  it('with geolocate: true, the found country, region and coordinates reach the rows (never without it)', async () => {
    const geo = await api((_req, res) => json(res, 200, { country_code: 'US', country_code3: 'USA', region: 'Texas', latitude: '30.2672', longitude: '-97.7431' }));
    const { dir, clock, tracker: t } = fileTracker({ geolocate: true, cloudMetadata: false });
    // The geolocation URL is not an option: the chain is rebuilt here with the local server injected.
    const chain = createIntensityChain(t.options, { geolocationUrl: geo.url, timeZone: 'Etc/UTC' });
    Object.assign((t as unknown as { sampler: object }).sampler, { intensity: chain });
    t.on('warning', () => {});
    t.start();
    await chain.settled();
    clock.advance(1000);
    const data = await t.stop();
    expect(data).toMatchObject({ countryIsoCode: 'USA', region: 'texas', latitude: 30.2672, longitude: -97.7431 });
    const csv = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    expect(csv).toContain('-97.7431');
  });

  it('accepts an ordered chain in intensityProvider and rejects a bad link at construction', () => {
    expect(() => new EmissionsTracker({ saveToFile: false, intensityProvider: [{ id: 'x' } as never] })).toThrow(/intensityProvider\[0\] is not an IntensityProvider/);
    expect(() => new EmissionsTracker({ saveToFile: false, intensityProvider: [] })).toThrow(/non-empty array/);
    expect(() => new EmissionsTracker({ saveToFile: false, offlineIntensityData: 'iea' as 'ember' })).toThrow(/offlineIntensityData/);
  });
});

describe('secrets never leave', () => {
  const TOKEN = 'em-SECRET-token-4242';
  const PASSWORD = 'wt-SECRET-pass-777';

  it('token and password appear in no output file, warning, error, row, report, metric label or inspected object', async () => {
    // Electricity Maps: answers 401 with the token echoed, then loops redirects through a path holding it.
    let emCalls = 0;
    const em = await api((req, res) => {
      if (++emCalls === 1) return json(res, 401, { message: `token ${req.headers['auth-token']} is not valid` });
      res.writeHead(302, { location: `/v3/${TOKEN}/carbon-intensity/latest` });
      res.end();
    });
    // WattTime: the login echoes the Basic credentials in a malformed body.
    const wt = await api((req, res) => text(res, 200, `not json, you sent ${req.headers.authorization} ${PASSWORD}`));
    const uk = await api((_req, res) => json(res, 500, {}));
    const { dir, clock, tracker: t } = fileTracker({
      countryIsoCode: 'GBR',
      intensityProvider: [
        electricityMapsProvider({ token: TOKEN, zone: 'GB', baseUrl: em.url, retry: { initialMs: 10, maxMs: 10 } }),
        wattTimeProvider({ username: 'bob', password: PASSWORD, region: 'UK', baseUrl: wt.url, retry: { initialMs: 5000 } }),
        ukCarbonIntensityProvider({ baseUrl: uk.url, retry: { initialMs: 5000 } }),
      ],
    });
    const registry = new Registry();
    prometheusMetrics(t, { registry });
    const said: string[] = [];
    t.on('warning', (w: WattprintWarning) => said.push(JSON.stringify(w)));
    t.on('error', (e) => said.push(`${e.message} ${inspect(e)}`));
    t.start();
    await until(() => said.some((s) => s.includes('INTENSITY_REDIRECT_LOOP')), 3000, 'redirect warning');
    await until(() => said.some((s) => s.includes('INTENSITY_MALFORMED')) && said.some((s) => s.includes('INTENSITY_SERVER_ERROR')), 3000, 'warnings');
    clock.advance(1000);
    t.sample();
    const metrics = await registry.metrics(); // metric labels carry the intensity's source
    expect(metrics).toMatch(/wattprint_grid_intensity_grams_per_kwh\{source="[^"]+"/);
    const data = await t.stop();
    const report = await t.report();
    expect(said.map((s) => JSON.parse(s.startsWith('{') ? s : '{}').code).filter(Boolean).sort()).toEqual([
      'INTENSITY_MALFORMED',
      'INTENSITY_REDIRECT_LOOP',
      'INTENSITY_SERVER_ERROR',
      'INTENSITY_UNAUTHORIZED',
    ]);
    expect(said.join('\n')).toContain('***'); // the redirect path held the token: redacted, not dropped
    const everything = [
      ...said,
      ...readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')),
      JSON.stringify(data),
      metrics,
      JSON.stringify(report),
      inspect(t.options, { depth: 8, showHidden: true }),
      JSON.stringify(t.options.intensityProvider),
    ].join('\n');
    expect(readdirSync(dir).sort()).toEqual(['emissions.csv', 'emissions.jsonl', 'wattprint-report.json']);
    for (const secret of [TOKEN, PASSWORD, Buffer.from(`bob:${PASSWORD}`).toString('base64')]) expect(everything).not.toContain(secret);
  });

  it('construction errors never repeat the credentials', () => {
    const errors: string[] = [];
    for (const make of [
      () => electricityMapsProvider({ token: TOKEN, lat: 1 }),
      () => electricityMapsProvider({ token: TOKEN, ttlMs: 0 }),
      () => wattTimeProvider({ username: 'bob', password: PASSWORD, lat: Number.NaN, lon: 1 }),
    ]) {
      try {
        make();
      } catch (e) {
        errors.push(inspect(e));
      }
    }
    expect(errors).toHaveLength(3);
    expect(errors.join('\n')).not.toContain(TOKEN);
    expect(errors.join('\n')).not.toContain(PASSWORD);
  });
});
