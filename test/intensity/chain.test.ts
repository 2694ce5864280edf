import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cloudPlace,
  cloudVendor,
  createIntensityChain,
  electricityMapsProvider,
  gridIntensity,
  timeZoneCountry,
  ukCarbonIntensityProvider,
  type IntensityChain,
} from '../../src/intensity/index.js';
import type { IntensityProvider } from '../../src/types.js';
import { emLatest, fakeApi, json, recordingHooks, sleep, text, ukNational, until, type FakeApi } from './fake-apis.js';

const apis: FakeApi[] = [];
const chains: IntensityChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) c.stop();
  for (const a of apis.splice(0)) await a.close();
});
async function api(handler: Parameters<typeof fakeApi>[0]) {
  const a = await fakeApi(handler);
  apis.push(a);
  return a;
}
function chain(...args: Parameters<typeof createIntensityChain>) {
  const c = createIntensityChain(...args);
  chains.push(c);
  return c;
}

/** A fake sysfs with the DMI strings of a VM. */
function dmiRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-dmi-'));
  mkdirSync(join(root, 'class/dmi/id'), { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(root, 'class/dmi/id', name), `${value}\n`);
  return root;
}
const AWS_DMI = { sys_vendor: 'Amazon EC2', bios_vendor: 'Amazon EC2', product_name: 'm7i.large' };
const GCP_DMI = { sys_vendor: 'Google', bios_vendor: 'Google', product_name: 'Google Compute Engine' };
const AZURE_DMI = { sys_vendor: 'Microsoft Corporation', product_name: 'Virtual Machine', chassis_asset_tag: '7783-7084-3265-9085-8269-3286-77' };
const BARE = dmiRoot({ sys_vendor: 'Dell Inc.', bios_vendor: 'Dell Inc.', product_name: 'PowerEdge R760' });

/** A fake instance metadata service speaking the three clouds' protocols, headers enforced. */
function metadataServer(answers: { aws?: string; gcpZone?: string; azure?: string }) {
  return api((req, res) => {
    if (req.method === 'PUT' && req.path === '/latest/api/token') {
      if (req.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== '60') return text(res, 400, 'missing ttl');
      return text(res, 200, 'imds-token-xyz');
    }
    if (req.path === '/latest/meta-data/placement/region') {
      // IMDSv2 only: a GET without the session token is refused, as on instances that require v2.
      if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-token-xyz') return text(res, 401, '');
      return answers.aws ? text(res, 200, answers.aws) : text(res, 404, '');
    }
    if (req.path === '/computeMetadata/v1/instance/zone') {
      if (req.headers['metadata-flavor'] !== 'Google') return text(res, 403, '');
      return text(res, 200, `projects/123456789/zones/${answers.gcpZone}`);
    }
    if (req.path === '/metadata/instance/compute/location') {
      if (req.headers.metadata !== 'true' || req.query.get('format') !== 'text') return text(res, 400, '');
      return text(res, 200, answers.azure ?? '');
    }
    text(res, 404, '');
  });
}

describe('the chain: ordered links, the offline data last', () => {
  it('asks links in order; a link without a value falls through; the offline data always answers', () => {
    const none: IntensityProvider = { id: 'none', getIntensity: () => undefined };
    const second: IntensityProvider = { id: 'second', getIntensity: () => ({ gPerKWh: 77, source: 'second data' }) };
    const c = chain({ intensityProvider: [none, second], countryIsoCode: 'FRA' });
    expect(c.links.map((l) => l.id)).toEqual(['none', 'second', 'offline']);
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 77, provider: 'second', countryIsoCode: 'FRA', countryName: 'France', locationSource: 'options' });
    const alone = chain({ intensityProvider: none, countryIsoCode: 'FRA' });
    expect(alone.getIntensity()).toMatchObject({ gPerKWh: 56.039, provider: 'offline', zone: 'FRA', freshness: 'offline', year: 2023 });
  });

  it('a throwing or invalid link is skipped with one warning each', () => {
    const thrower: IntensityProvider = { id: 'thrower', getIntensity: () => { throw new Error('kaput'); } };
    const nan: IntensityProvider = { id: 'nan', getIntensity: () => ({ gPerKWh: NaN, source: 'x' }) };
    const c = chain({ intensityProvider: [thrower, nan], countryIsoCode: 'DEU' });
    const hooks = recordingHooks();
    c.start(hooks);
    c.getIntensity();
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 380.95, provider: 'offline' });
    expect(hooks.warnings.map((w) => w.code)).toEqual(['INTENSITY_PROVIDER_THREW', 'INTENSITY_PROVIDER_INVALID']);
    expect(hooks.warnings[0]!.message).toBe("intensity provider 'thrower' threw: kaput; the next provider answers");
  });

  it('a link that throws a non-Error, or a sentence, is named in its warning without doubled punctuation', () => {
    const cases: [() => never, string][] = [
      [() => { throw 'not an Error'; }, 'not an Error'],
      [() => { throw new Error('Table missing. Copy dist/.'); }, 'Table missing. Copy dist/'],
    ];
    for (const [getIntensity, said] of cases) {
      const c = chain({ intensityProvider: { id: 'odd', getIntensity }, countryIsoCode: 'DEU' });
      const hooks = recordingHooks();
      c.start(hooks);
      expect(c.getIntensity()).toMatchObject({ gPerKWh: 380.95, provider: 'offline' });
      expect(hooks.warnings.map((w) => w.message)).toEqual([`intensity provider 'odd' threw: ${said}; the next provider answers`]);
    }
  });

  it('forceCarbonIntensityGPerKWh is a fixed first link', () => {
    const c = chain({ forceCarbonIntensityGPerKWh: 12, countryIsoCode: 'FRA' });
    expect(c.links.map((l) => l.id)).toEqual(['fixed', 'offline']);
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 12, provider: 'fixed', freshness: 'offline', source: 'forceCarbonIntensityGPerKWh (user-provided)' });
  });

  it('live link first: offline until the value arrives, then live; beforeChange is called just before the switch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = await api(async (_req, res) => {
      await gate;
      json(res, 200, emLatest('FR', 33));
    });
    const c = chain({ intensityProvider: electricityMapsProvider({ token: 'tok-abc', baseUrl: a.url }), countryIsoCode: 'FRA' });
    let atChange: number | undefined;
    const hooks = { ...recordingHooks(), beforeChange: () => (atChange = c.getIntensity().gPerKWh) };
    c.start(hooks);
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 56.039, provider: 'offline', freshness: 'offline' });
    await until(() => a.seen.length === 1);
    expect(a.seen[0]!.query.get('zone')).toBe('FR');
    release();
    await until(() => c.getIntensity().provider === 'electricity-maps');
    expect(atChange).toBe(56.039); // the tracker samples at the old value, then the new one applies
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 33, zone: 'FR', freshness: 'live', countryIsoCode: 'FRA', locationSource: 'options' });
  });

  it('a failing first link falls through to the next live one, then the offline data', async () => {
    const em = await api((_req, res) => json(res, 401, {}));
    const uk = await api((_req, res) => json(res, 200, ukNational(200, 190)));
    const c = chain({
      intensityProvider: [
        electricityMapsProvider({ token: 'tok-abc', baseUrl: em.url, retry: { initialMs: 5000 } }),
        ukCarbonIntensityProvider({ baseUrl: uk.url }),
      ],
      countryIsoCode: 'GBR',
    });
    const hooks = recordingHooks();
    c.start(hooks);
    expect(c.getIntensity().provider).toBe('offline');
    await until(() => c.getIntensity().provider === 'uk-carbon-intensity');
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 190, zone: 'GB', freshness: 'live' });
    await until(() => hooks.warnings.length > 0);
    expect(hooks.warnings.map((w) => w.code)).toEqual(['INTENSITY_UNAUTHORIZED']);
  });
});

describe('location when not given', () => {
  it('time zone → country offline (tz database), with a warning saying so', () => {
    expect(timeZoneCountry('Europe/Paris')).toBe('FRA');
    expect(timeZoneCountry('America/Sao_Paulo')).toBe('BRA');
    expect(timeZoneCountry('Asia/Calcutta')).toBe('IND'); // an old name, through the tz links
    expect(timeZoneCountry('UTC')).toBeUndefined();
    const c = chain({ sysfsRoot: BARE }, { timeZone: 'Europe/Berlin' });
    expect(c.location()).toEqual({ location: { countryIsoCode: 'DEU' }, source: 'timezone' });
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 380.95, countryIsoCode: 'DEU', locationSource: 'timezone' });
    const hooks = recordingHooks();
    c.start(hooks);
    expect(hooks.warnings).toEqual([
      expect.objectContaining({ code: 'LOCATION_FROM_TIMEZONE', option: 'countryIsoCode', message: expect.stringContaining("DEU from the system time zone 'Europe/Berlin'") }),
    ]);
  });

  it('no country from the time zone → world average, with a warning that says what was tried', () => {
    const c = chain({ sysfsRoot: BARE }, { timeZone: 'Etc/UTC' });
    const v = c.getIntensity() as { warning?: string; gPerKWh: number; isFallback?: boolean; locationSource?: string };
    expect(v).toMatchObject({ gPerKWh: 475, isFallback: true, locationSource: 'none' });
    expect(v.warning).toMatch(/time zone 'Etc\/UTC' has no country; geolocate: true allows one IP lookup\); using the world average 475/);
  });

  it('options win: no detection, no warning', () => {
    const c = chain({ countryIsoCode: 'SWE', sysfsRoot: dmiRoot(AWS_DMI) }, { timeZone: 'Europe/Paris', metadataBaseUrl: 'http://127.0.0.1:9' });
    const hooks = recordingHooks();
    c.start(hooks);
    expect(c.location().source).toBe('options');
    expect(hooks.warnings).toEqual([]);
  });

  it('DMI strings tell AWS, GCP and Azure VMs from other machines, without any network', () => {
    expect(cloudVendor(dmiRoot(AWS_DMI))).toBe('aws');
    expect(cloudVendor(dmiRoot({ bios_version: '4.11.amazon' }))).toBe('aws'); // older Xen instances
    expect(cloudVendor(dmiRoot(GCP_DMI))).toBe('gcp');
    expect(cloudVendor(dmiRoot(AZURE_DMI))).toBe('azure');
    expect(cloudVendor(dmiRoot({ sys_vendor: 'Microsoft Corporation', product_name: 'Virtual Machine' }))).toBeUndefined(); // local Hyper-V
    expect(cloudVendor(BARE)).toBeUndefined();
    expect(cloudVendor('/nonexistent')).toBeUndefined();
  });

  it.each([
    ['aws', AWS_DMI, { aws: 'eu-north-1' }, { cloudProvider: 'aws', cloudRegion: 'eu-north-1', countryIsoCode: 'SWE' }, 18, 'SE3'],
    ['gcp', GCP_DMI, { gcpZone: 'europe-west9-b' }, { cloudProvider: 'gcp', cloudRegion: 'europe-west9', countryIsoCode: 'FRA' }, 34, 'europe-west9'],
    ['azure', AZURE_DMI, { azure: 'westus' }, { cloudProvider: 'azure', cloudRegion: 'westus', countryIsoCode: 'USA' }, 452.541 * 0.45359237, 'california'],
  ] as const)('%s VM: metadata → provider and region → its grid', async (vendor, dmi, answers, location, gPerKWh, zone) => {
    const md = await metadataServer(answers);
    const c = chain({ sysfsRoot: dmiRoot(dmi) }, { timeZone: 'Etc/UTC', metadataBaseUrl: md.url });
    const hooks = recordingHooks();
    c.start(hooks);
    expect(c.location().source).toBe('none'); // start() did not wait
    await c.settled();
    expect(c.location()).toEqual({ location, source: 'cloud-metadata' });
    expect(hooks.changes).toBe(1);
    const v = c.getIntensity();
    expect(v.gPerKWh).toBeCloseTo(gPerKWh, 9);
    expect(v).toMatchObject({ zone, cloudProvider: vendor, cloudRegion: location.cloudRegion, locationSource: 'cloud-metadata' });
    expect(hooks.warnings).toEqual([]);
    if (vendor === 'aws') expect(md.seen.map((s) => `${s.method} ${s.path}`)).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/placement/region']);
  });

  it('metadata that does not answer in time: one warning, the time zone country stays', async () => {
    const md = await api(async (_req, res) => {
      await sleep(3000);
      if (!res.destroyed) text(res, 200, 'x');
    });
    const c = chain({ sysfsRoot: dmiRoot(AWS_DMI) }, { timeZone: 'Europe/Paris', metadataBaseUrl: md.url, metadataTimeoutMs: 50 });
    const hooks = recordingHooks();
    const t0 = Date.now();
    c.start(hooks);
    await c.settled();
    expect(Date.now() - t0).toBeLessThan(1500); // the answer would come at 3 s
    expect(c.location()).toEqual({ location: { countryIsoCode: 'FRA' }, source: 'timezone' });
    expect(hooks.warnings.map((w) => w.code)).toEqual(['LOCATION_FROM_TIMEZONE', 'LOCATION_CLOUD_METADATA']);
    expect(hooks.warnings[1]!.message).toMatch(/looks like a aws VM but its metadata service gave no region \(no answer .* within 50 ms\)/);
  });

  it('cloudMetadata: false and a non-cloud machine never ask the metadata service', async () => {
    const md = await metadataServer({ aws: 'us-east-1' });
    for (const opts of [{ sysfsRoot: dmiRoot(AWS_DMI), cloudMetadata: false }, { sysfsRoot: BARE }]) {
      const c = chain(opts, { timeZone: 'Etc/UTC', metadataBaseUrl: md.url });
      c.start(recordingHooks());
      await c.settled();
      expect(c.location().source).toBe('none');
    }
    expect(md.seen).toHaveLength(0);
  });

  it('IP geolocation only with geolocate: true', async () => {
    const geo = await api((_req, res) =>
      json(res, 200, { country: 'United States', country_code: 'US', country_code3: 'USA', region: 'Texas', latitude: '30.2672', longitude: '-97.7431', ip: '203.0.113.9' }),
    );
    const off = chain({ sysfsRoot: BARE }, { timeZone: 'Etc/UTC', geolocationUrl: geo.url });
    off.start(recordingHooks());
    await off.settled();
    expect(geo.seen).toHaveLength(0);
    const on = chain({ sysfsRoot: BARE, geolocate: true }, { timeZone: 'Etc/UTC', geolocationUrl: geo.url });
    on.start(recordingHooks());
    await on.settled();
    expect(on.location()).toEqual({ location: { countryIsoCode: 'USA', region: 'texas', latitude: 30.2672, longitude: -97.7431 }, source: 'geolocation' });
    expect(on.getIntensity().gPerKWh).toBeCloseTo(1049.527 * 0.45359237, 9);
  });
});

describe('AWS and Azure regions get their grid offline', () => {
  it.each([
    ['aws', 'us-east-1', 'USA', 'virginia'],
    ['aws', 'eu-west-3', 'FRA', undefined],
    ['aws', 'eu-north-1', 'SWE', 'SE3'],
    ['aws', 'ca-central-1', 'CAN', 'quebec'],
    ['azure', 'westeurope', 'NLD', undefined],
    ['azure', 'swedencentral', 'SWE', 'SE3'],
    ['azure', 'southcentralus', 'USA', 'texas'],
  ])('%s %s → %s %s', (provider, region, iso, sub) => {
    const v = gridIntensity({ cloudProvider: provider, cloudRegion: region });
    const expected = gridIntensity({ countryIsoCode: iso, ...(sub ? { region: sub } : {}) });
    expect(v.gPerKWh).toBe(expected.gPerKWh);
    expect(v.countryIsoCode).toBe(iso);
    expect(v.isFallback).toBeUndefined();
    expect(v.source).toContain(`${provider.toUpperCase()} ${region} is in ${cloudPlace(provider, region)!.city}`);
  });

  it('an unknown region falls back to the country with a warning', () => {
    const v = gridIntensity({ cloudProvider: 'aws', cloudRegion: 'mars-north-1', countryIsoCode: 'DEU' });
    expect(v.gPerKWh).toBe(380.95);
    expect(v.warning).toMatch(/'mars-north-1' is not in the AWS region table/);
  });
});

describe("offlineIntensityData: 'ember' (@tgwf/co2)", () => {
  it("answers Ember's country average, and leaves regions to CodeCarbon's finer data", () => {
    const c = chain({ offlineIntensityData: 'ember', countryIsoCode: 'FRA' });
    expect(c.links.map((l) => l.id)).toEqual(['ember', 'offline']);
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 44.18, provider: 'ember', zone: 'FRA', freshness: 'offline', countryName: 'France' });
    expect(c.getIntensity().source).toMatch(/^Ember yearly average via @tgwf\/co2/);
    expect(chain({ offlineIntensityData: 'ember', countryIsoCode: 'USA' }).getIntensity().gPerKWh).toBe(383.55);
    expect(chain({ offlineIntensityData: 'ember', countryIsoCode: 'SWE', region: 'SE3' }).getIntensity()).toMatchObject({ gPerKWh: 18, provider: 'offline' });
  });
});

describe('cloud regions feed live providers too', () => {
  it("a GCP region from the options gives Electricity Maps the region's country", async () => {
    const a = await api((req, res) => json(res, 200, emLatest(req.query.get('zone') ?? '?', 20)));
    const c = chain({ cloudProvider: 'gcp', cloudRegion: 'europe-west9', intensityProvider: electricityMapsProvider({ token: 'tok-abc', baseUrl: a.url }) });
    expect(c.location().location).toEqual({ cloudProvider: 'gcp', cloudRegion: 'europe-west9', countryIsoCode: 'FRA' });
    c.start(recordingHooks());
    c.getIntensity();
    await until(() => c.getIntensity().provider === 'electricity-maps');
    expect(a.seen[0]!.query.get('zone')).toBe('FR');
    expect(c.getIntensity()).toMatchObject({ gPerKWh: 20, cloudProvider: 'gcp', cloudRegion: 'europe-west9', locationSource: 'options' });
  });

  it('an unknown region from metadata keeps the cloud and the time zone country, with a warning', async () => {
    const md = await metadataServer({ aws: 'xx-moon-1' });
    const c = chain({ sysfsRoot: dmiRoot(AWS_DMI) }, { timeZone: 'Europe/Madrid', metadataBaseUrl: md.url });
    const hooks = recordingHooks();
    c.start(hooks);
    await c.settled();
    expect(c.location()).toEqual({ location: { cloudProvider: 'aws', cloudRegion: 'xx-moon-1', countryIsoCode: 'ESP' }, source: 'cloud-metadata' });
    expect(hooks.warnings.map((w) => w.code)).toEqual(['LOCATION_FROM_TIMEZONE', 'LOCATION_CLOUD_REGION']);
    expect(c.getIntensity().countryIsoCode).toBe('ESP');
  });
});
