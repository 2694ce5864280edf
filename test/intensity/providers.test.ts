import { afterEach, describe, expect, it } from 'vitest';
import {
  electricityMapsProvider,
  fixedIntensityProvider,
  ukCarbonIntensityProvider,
  wattTimeProvider,
} from '../../src/intensity/index.js';
import type { IntensityProvider, IntensityValue, Location } from '../../src/types.js';
import { emLatest, fakeApi, json, recordingHooks, sleep, text, ukNational, ukRegional, until, wtData, type FakeApi } from './fake-apis.js';

const apis: FakeApi[] = [];
const providers: IntensityProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) p.stop?.();
  for (const a of apis.splice(0)) await a.close();
});
async function api(handler: Parameters<typeof fakeApi>[0]) {
  const a = await fakeApi(handler);
  apis.push(a);
  return a;
}
function started<P extends IntensityProvider>(p: P, hooks = recordingHooks()) {
  providers.push(p);
  p.start!(hooks);
  return { p, hooks };
}
/** Asks until the provider has a value (it fetches in the background after the first ask). */
async function valueOf(p: IntensityProvider, loc: Location = {}): Promise<IntensityValue> {
  let v: IntensityValue | undefined;
  await until(() => (v = p.getIntensity(loc, new Date())) !== undefined, 3000, `${p.id} value`);
  return v!;
}
const FAST = { retry: { initialMs: 20, maxMs: 80 }, timeoutMs: 300 };

describe('electricityMapsProvider (v3 carbon-intensity/latest)', () => {
  it('sends the zone and the auth-token header; answers the zone average as live, lifecycle by default', async () => {
    const a = await api((_, res) => json(res, 200, emLatest('FR', 31)));
    const { p } = started(electricityMapsProvider({ token: 'em-token-1', zone: 'FR', baseUrl: a.url }));
    expect(p.getIntensity({}, new Date())).toBeUndefined(); // never blocks: nothing before the fetch lands
    const v = await valueOf(p);
    expect(v).toMatchObject({
      gPerKWh: 31,
      provider: 'electricity-maps',
      zone: 'FR',
      freshness: 'live',
      signal: 'average',
      emissionFactor: 'lifecycle',
      validAt: '2026-12-04T15:00:00.000Z',
      year: 2026,
    });
    expect(v.source).toBe('Electricity Maps lifecycle average (estimated)');
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.path).toBe('/v3/carbon-intensity/latest');
    expect(a.seen[0]!.query.get('zone')).toBe('FR');
    expect(a.seen[0]!.query.has('emissionFactorType')).toBe(false);
    expect(a.seen[0]!.headers['auth-token']).toBe('em-token-1');
  });

  it('asks for direct factors on request, and by lat/lon when given', async () => {
    const a = await api((req, res) => json(res, 200, emLatest('DE', req.query.get('emissionFactorType') === 'direct' ? 290 : 342, req.query.get('emissionFactorType') ?? 'lifecycle')));
    const { p } = started(electricityMapsProvider({ token: 't0k3n', lat: 52.5, lon: 13.4, emissionFactorType: 'direct', baseUrl: a.url }));
    expect(await valueOf(p)).toMatchObject({ gPerKWh: 290, zone: 'DE', emissionFactor: 'direct' });
    expect(Object.fromEntries(a.seen[0]!.query)).toEqual({ lat: '52.5', lon: '13.4', emissionFactorType: 'direct' });
  });

  it("uses the tracker's location when no zone is given: cloud region zone, else the country's alpha-2", async () => {
    const a = await api((req, res) => json(res, 200, emLatest(req.query.get('zone') ?? '?', 100)));
    const { p } = started(electricityMapsProvider({ token: 'tok-abc', baseUrl: a.url }));
    expect(await valueOf(p, { cloudProvider: 'aws', cloudRegion: 'us-west-1' })).toMatchObject({ zone: 'US-CAL-CISO' });
    expect(await valueOf(p, { countryIsoCode: 'FRA' })).toMatchObject({ zone: 'FR' });
    expect(a.seen.map((s) => s.query.get('zone'))).toEqual(['US-CAL-CISO', 'FR']);
  });

  it('refreshes after ttlMs, and keeps the last value as cached while refreshing fails', async () => {
    let n = 0;
    const a = await api((_, res) => (++n === 1 ? json(res, 200, emLatest('FR', 40)) : json(res, 500, { error: 'boom' })));
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, ttlMs: 60, maxStaleMs: 10_000, ...FAST }));
    expect(await valueOf(p)).toMatchObject({ gPerKWh: 40, freshness: 'live' });
    await until(() => hooks.warnings.length > 0, 2000, 'failed refresh');
    await until(() => p.getIntensity({}, new Date())?.freshness === 'cached', 2000, 'cached');
    expect(p.getIntensity({}, new Date())).toMatchObject({ gPerKWh: 40, freshness: 'cached' });
    expect(hooks.warnings.map((w) => w.code)).toEqual(['INTENSITY_SERVER_ERROR']);
  });

  it('drops a value older than maxStaleMs, so the next link answers', async () => {
    let n = 0;
    const a = await api((_, res) => (++n === 1 ? json(res, 200, emLatest('FR', 40)) : json(res, 503, {})));
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, ttlMs: 30, maxStaleMs: 90, ...FAST }));
    await valueOf(p);
    expect(hooks.changes).toBe(1);
    await until(() => p.getIntensity({}, new Date()) === undefined, 2000, 'expiry');
    // The drop is announced like an arrival, so the tracker closes the interval at the cached value.
    expect(hooks.changes).toBe(2);
    expect(hooks.warnings[0]!.message).toMatch(/its last value is kept \(cached\) for up to 0 min after it was fetched/);
  });

  it('rejects bad options at construction, naming the option', () => {
    expect(() => electricityMapsProvider({ token: '' })).toThrow(/token must be a non-empty string/);
    expect(() => electricityMapsProvider({ token: 'x', lat: 1 })).toThrow(/both lat and lon/);
    expect(() => electricityMapsProvider({ token: 'x', ttlMs: -1 })).toThrow(/ttlMs must be/);
    expect(() => electricityMapsProvider({ token: 'x', emissionFactorType: 'x' as 'direct' })).toThrow(/emissionFactorType/);
    expect(() => electricityMapsProvider({ token: 'x', baseUrl: 'ftp://example' })).toThrow(/baseUrl must be an http\(s\) URL/);
    expect(() => wattTimeProvider({ username: 'u', password: 'p', baseUrl: 'not a url' })).toThrow(/wattTimeProvider\(\): baseUrl/);
  });

  it('fetches nothing before start() (detect() and construction stay offline)', async () => {
    const a = await api((_, res) => json(res, 200, emLatest('FR', 1)));
    const p = electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url });
    expect(p.getIntensity({}, new Date())).toBeUndefined();
    await sleep(50);
    expect(a.seen).toHaveLength(0);
  });
});

describe('failures fall through with one warning per cause, and retries back off', () => {
  const cases: Array<[string, (res: import('node:http').ServerResponse) => void, string]> = [
    ['401', (res) => json(res, 401, { message: 'invalid token' }), 'INTENSITY_UNAUTHORIZED'],
    ['403', (res) => json(res, 403, {}), 'INTENSITY_UNAUTHORIZED'],
    ['429', (res) => json(res, 429, { message: 'slow down' }), 'INTENSITY_RATE_LIMITED'],
    ['500', (res) => json(res, 500, {}), 'INTENSITY_SERVER_ERROR'],
    ['malformed JSON', (res) => text(res, 200, '{"zone": "FR", "carbonIntens'), 'INTENSITY_MALFORMED'],
    ['JSON without carbonIntensity', (res) => json(res, 200, { zone: 'FR' }), 'INTENSITY_MALFORMED'],
    ['a redirect loop', (res) => (res.writeHead(302, { location: '/v3/carbon-intensity/latest?zone=FR' }), res.end()), 'INTENSITY_REDIRECT_LOOP'],
  ];
  it.each(cases)('%s: one warning with its code, no value, retries backing off', async (_, answer, code) => {
    const a = await api((_req, res) => answer(res));
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, ...FAST, retry: { initialMs: 20, maxMs: 80 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0, 2000, 'warning');
    await sleep(250);
    expect(p.getIntensity({}, new Date())).toBeUndefined();
    expect(hooks.warnings.map((w) => w.code)).toEqual([code]);
    expect(hooks.warnings[0]!.message).toContain("intensity provider 'electricity-maps'");
    expect(hooks.changes).toBe(0);
    // Requests per fetch: 1, or 4 for a redirect loop (3 redirects followed, then given up).
    const perFetch = code === 'INTENSITY_REDIRECT_LOOP' ? 4 : 1;
    const starts = a.seen.filter((_, i) => i % perFetch === 0).map((s) => s.atMs);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    if (code === 'INTENSITY_UNAUTHORIZED') {
      // A refused key will not fix itself: straight to the longest delay.
      expect(gaps.every((g) => g >= 78)).toBe(true);
      expect(starts.length).toBeLessThanOrEqual(5);
    } else {
      expect(gaps.length).toBeGreaterThanOrEqual(2);
      expect(gaps[0]).toBeGreaterThanOrEqual(18);
      expect(gaps[1]).toBeGreaterThanOrEqual(38);
      if (gaps[2] !== undefined) expect(gaps[2]).toBeGreaterThanOrEqual(78);
      expect(starts.length).toBeLessThan(10); // a fixed 20 ms retry would have made ~15
    }
  });

  it('a slow answer times out (timeoutMs) and is a timeout warning, not a hang', async () => {
    const a = await api(async (_req, res) => {
      await sleep(3000);
      if (!res.destroyed) json(res, 200, emLatest('FR', 1));
    });
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, timeoutMs: 50, retry: { initialMs: 5000 } }));
    const t0 = Date.now();
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0, 2000, 'timeout warning');
    expect(Date.now() - t0).toBeLessThan(1500); // the answer would come at 3 s
    expect(hooks.warnings[0]).toMatchObject({ code: 'INTENSITY_TIMEOUT', option: 'intensityProvider' });
    expect(hooks.warnings[0]!.message).toMatch(/within 50 ms/);
  });

  it('honours a 429 Retry-After longer than the backoff', async () => {
    const a = await api((_req, res) => {
      res.writeHead(429, { 'retry-after': '1' });
      res.end('{}');
    });
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, retry: { initialMs: 10, maxMs: 20 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0);
    await sleep(300);
    expect(a.seen).toHaveLength(1);
    expect(hooks.warnings[0]!.message).toMatch(/next try in 1 s/);
  });

  it('does not follow a redirect to another origin (the token stays home)', async () => {
    const other = await api((_req, res) => json(res, 200, emLatest('FR', 1)));
    const a = await api((_req, res) => (res.writeHead(307, { location: `${other.url}/v3/carbon-intensity/latest` }), res.end()));
    const { p, hooks } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: a.url, retry: { initialMs: 5000 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0);
    expect(other.seen).toHaveLength(0);
    expect(hooks.warnings[0]).toMatchObject({ code: 'INTENSITY_REDIRECT_LOOP' });
  });

  it('follows a same-origin redirect', async () => {
    const a = await api((req, res) =>
      req.path === '/old/v3/carbon-intensity/latest'
        ? (res.writeHead(301, { location: `/v3/carbon-intensity/latest?zone=${req.query.get('zone')}` }), res.end())
        : json(res, 200, emLatest('FR', 55)),
    );
    const { p } = started(electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl: `${a.url}/old` }));
    expect(await valueOf(p)).toMatchObject({ gPerKWh: 55 });
    expect(a.seen[1]!.headers['auth-token']).toBe('tok-abc');
  });
});

describe('every live provider falls through the same way', () => {
  const make: Record<string, (baseUrl: string) => IntensityProvider> = {
    'electricity-maps': (baseUrl) => electricityMapsProvider({ token: 'tok-abc', zone: 'FR', baseUrl, timeoutMs: 100, retry: { initialMs: 5000 } }),
    'uk-carbon-intensity': (baseUrl) => ukCarbonIntensityProvider({ region: 13, baseUrl, timeoutMs: 100, retry: { initialMs: 5000 } }),
    watttime: (baseUrl) => wattTimeProvider({ username: 'u', password: 'p4ss', region: 'CAISO_NORTH', baseUrl, timeoutMs: 100, retry: { initialMs: 5000 } }),
  };
  const answers: Array<[string, Parameters<typeof fakeApi>[0], string]> = [
    ['500', (_req, res) => json(res, 500, {}), 'INTENSITY_SERVER_ERROR'],
    ['429', (_req, res) => json(res, 429, {}), 'INTENSITY_RATE_LIMITED'],
    ['401', (_req, res) => json(res, 401, {}), 'INTENSITY_UNAUTHORIZED'],
    ['not JSON', (_req, res) => text(res, 200, '<html>maintenance</html>'), 'INTENSITY_MALFORMED'],
    ['a slow answer', async (_req, res) => { await sleep(3000); if (!res.destroyed) json(res, 200, {}); }, 'INTENSITY_TIMEOUT'],
  ];
  for (const [id, build] of Object.entries(make))
    it.each(answers)(`${id}: %s → %s`, async (_, handler, code) => {
      const a = await api(handler);
      const { p, hooks } = started(build(a.url));
      p.getIntensity({ countryIsoCode: 'GBR' }, new Date());
      await until(() => hooks.warnings.length > 0, 2000, 'warning');
      expect(hooks.warnings.map((w) => w.code)).toEqual([code]);
      expect(p.getIntensity({ countryIsoCode: 'GBR' }, new Date())).toBeUndefined();
    });
});

describe('ukCarbonIntensityProvider (carbonintensity.org.uk)', () => {
  it('national: the estimated actual where published, else the forecast; only for GBR', async () => {
    let actual: number | null = 180;
    const a = await api((req, res) => (req.path === '/intensity' ? json(res, 200, ukNational(190, actual)) : json(res, 404, {})));
    const { p, hooks } = started(ukCarbonIntensityProvider({ baseUrl: a.url, ttlMs: 40 }));
    expect(p.getIntensity({ countryIsoCode: 'FRA' }, new Date())).toBeUndefined();
    expect(hooks.warnings[0]).toMatchObject({ code: 'INTENSITY_UNSUPPORTED_LOCATION' });
    expect(hooks.warnings[0]!.message).toMatch(/Great Britain only and the location is FRA/);
    expect(await valueOf(p, { countryIsoCode: 'GBR' })).toMatchObject({
      gPerKWh: 180,
      zone: 'GB',
      countryIsoCode: 'GBR',
      emissionFactor: 'direct',
      signal: 'average',
      validAt: '2026-12-04T15:00Z',
      year: 2026,
    });
    actual = null;
    await until(() => p.getIntensity({ countryIsoCode: 'GBR' }, new Date())?.gPerKWh === 190, 2000, 'forecast');
    expect(p.getIntensity({ countryIsoCode: 'GBR' }, new Date())!.source).toBe('Carbon Intensity API (NESO), national forecast');
    expect(a.seen.every((s) => s.path === '/intensity')).toBe(true);
  });

  it('regional by id and by postcode (only the outward code leaves the machine)', async () => {
    const a = await api((req, res) =>
      req.path === '/regional/regionid/13'
        ? json(res, 200, ukRegional(13, 'London', 210))
        : req.path === '/regional/postcode/RG10'
          ? json(res, 200, ukRegional(12, 'South England', 150, 'RG10'))
          : json(res, 404, {}),
    );
    const byId = started(ukCarbonIntensityProvider({ region: 13, baseUrl: a.url })).p;
    expect(await valueOf(byId, { countryIsoCode: 'FRA' })).toMatchObject({ gPerKWh: 210, zone: 'GB-13', region: 'London' });
    const byPostcode = started(ukCarbonIntensityProvider({ postcode: 'rg10 8ab', baseUrl: a.url })).p;
    expect(await valueOf(byPostcode)).toMatchObject({ gPerKWh: 150, zone: 'GB-12', region: 'South England' });
    expect(a.seen.map((s) => s.path)).toEqual(['/regional/regionid/13', '/regional/postcode/RG10']);
  });

  it('rejects a bad region or postcode at construction', () => {
    expect(() => ukCarbonIntensityProvider({ region: 18 })).toThrow(/region must be a region id from 1 to 17/);
    expect(() => ukCarbonIntensityProvider({ postcode: '75001' })).toThrow(/postcode must be a UK postcode/);
  });
});

describe('wattTimeProvider (v3)', () => {
  function wattTime(opts: { moer?: 'ok' | 'forbidden'; historical?: 'ok' | 'forbidden'; expireFirstToken?: boolean } = {}) {
    let logins = 0;
    return api((req, res) => {
      if (req.path === '/login') {
        if (req.headers.authorization !== `Basic ${Buffer.from('alice:pa55-word!').toString('base64')}`) return json(res, 401, {});
        logins++;
        return json(res, 200, { token: `session-${logins}` });
      }
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ')) return json(res, 401, {});
      if (opts.expireFirstToken && auth === 'Bearer session-1') return json(res, 401, { error: 'expired' });
      if (req.path === '/v3/region-from-loc')
        return json(res, 200, { region: 'CAISO_NORTH', region_full_name: 'California ISO Northern', signal_type: 'co2_moer' });
      if (req.path === '/v3/forecast') return opts.moer === 'forbidden' ? json(res, 403, {}) : json(res, 200, wtData([870, 880, 890]));
      if (req.path === '/v3/historical') return opts.historical === 'forbidden' ? json(res, 403, {}) : json(res, 200, wtData([900, 910]));
      if (req.path === '/v3/signal-index') return json(res, 200, { ...wtData([68]), meta: { ...wtData([]).meta, units: 'percentile' } });
      json(res, 404, {});
    });
  }

  it('logs in with Basic auth, then reads the current MOER and converts lbs/MWh to g/kWh (× 0.45359237)', async () => {
    const a = await wattTime();
    const { p } = started(wattTimeProvider({ username: 'alice', password: 'pa55-word!', region: 'CAISO_NORTH', baseUrl: a.url }));
    const v = await valueOf(p);
    expect(v.gPerKWh).toBeCloseTo(870 * 0.45359237, 9);
    expect(v).toMatchObject({ provider: 'watttime', zone: 'CAISO_NORTH', signal: 'marginal', freshness: 'live', validAt: '2026-12-04T15:00:00+00:00' });
    expect(a.seen.map((s) => s.path)).toEqual(['/login', '/v3/forecast']);
    expect(Object.fromEntries(a.seen[1]!.query)).toEqual({ region: 'CAISO_NORTH', signal_type: 'co2_moer', horizon_hours: '0' });
    expect(a.seen[1]!.headers.authorization).toBe('Bearer session-1');
  });

  it('finds the region from coordinates, and logs in again when the token expired', async () => {
    const a = await wattTime({ expireFirstToken: true });
    const { p } = started(wattTimeProvider({ username: 'alice', password: 'pa55-word!', lat: 38.5, lon: -121.5, baseUrl: a.url }));
    expect(await valueOf(p)).toMatchObject({ zone: 'CAISO_NORTH' });
    expect(a.seen.map((s) => s.path)).toEqual(['/login', '/v3/region-from-loc', '/login', '/v3/region-from-loc', '/v3/forecast']);
    expect(a.seen[3]!.query.get('latitude')).toBe('38.5');
  });

  it('falls back to the last historical point when the plan has no forecast', async () => {
    const a = await wattTime({ moer: 'forbidden' });
    const { p } = started(wattTimeProvider({ username: 'alice', password: 'pa55-word!', region: 'CAISO_NORTH', baseUrl: a.url }));
    expect((await valueOf(p)).gPerKWh).toBeCloseTo(910 * 0.45359237, 9);
  });

  it('a plan with only the signal index gives no intensity: warns (with the percentile) and falls through', async () => {
    const a = await wattTime({ moer: 'forbidden', historical: 'forbidden' });
    const { p, hooks } = started(wattTimeProvider({ username: 'alice', password: 'pa55-word!', region: 'PJM_NJ', baseUrl: a.url, retry: { initialMs: 5000 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0);
    expect(p.getIntensity({}, new Date())).toBeUndefined();
    expect(hooks.warnings[0]!.code).toBe('INTENSITY_UNAUTHORIZED');
    expect(hooks.warnings[0]!.message).toMatch(/no MOER values for PJM_NJ \(only the signal index, now 68/);
  });

  it('a wrong password is one unauthorized warning that never shows the password', async () => {
    const a = await wattTime();
    const { p, hooks } = started(wattTimeProvider({ username: 'alice', password: 'wrong-pass', region: 'CAISO_NORTH', baseUrl: a.url, retry: { initialMs: 5000 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0);
    expect(hooks.warnings[0]!.code).toBe('INTENSITY_UNAUTHORIZED');
    expect(JSON.stringify(hooks.warnings)).not.toContain('wrong-pass');
  });

  it('rejects unexpected units as malformed', async () => {
    const a = await api((req, res) => (req.path === '/login' ? json(res, 200, { token: 't' }) : json(res, 200, wtData([1], 'kg_co2_per_mwh'))));
    const { p, hooks } = started(wattTimeProvider({ username: 'alice', password: 'pa55-word!', region: 'X', baseUrl: a.url, retry: { initialMs: 5000 } }));
    p.getIntensity({}, new Date());
    await until(() => hooks.warnings.length > 0);
    expect(hooks.warnings[0]!.code).toBe('INTENSITY_MALFORMED');
    expect(hooks.warnings[0]!.message).toMatch(/unexpected units 'kg_co2_per_mwh'/);
  });
});

describe('fixedIntensityProvider', () => {
  it('answers the same value everywhere, named fixed and offline', () => {
    const p = fixedIntensityProvider(123, { zone: 'contract', year: 2025 });
    expect(p.getIntensity({}, new Date())).toEqual({ gPerKWh: 123, source: 'fixed value (user-provided)', provider: 'fixed', freshness: 'offline', zone: 'contract', year: 2025 });
    expect(() => fixedIntensityProvider(-1)).toThrow(/gPerKWh must be a finite number ≥ 0/);
  });
});
