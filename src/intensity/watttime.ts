import { WattprintError } from '../errors.js';
import type { IntensityProvider, Location } from '../types.js';
import { apiUrl, baseUrlOf, isObject, LiveRequestError, requestJson } from './http.js';
import { checkTiming, liveProvider, timingOf, type LiveTiming } from './live.js';
import { cloudPlace } from './places.js';

/** Options of {@link wattTimeProvider}. */
export interface WattTimeOptions extends LiveTiming {
  username: string;
  /** Sent only in the login request's Basic authorization; never written anywhere. */
  password: string;
  /** Grid region (`'CAISO_NORTH'`). Default: from `lat`/`lon`, else the tracker's coordinates or cloud region. */
  region?: string;
  lat?: number;
  lon?: number;
  /** Default `'https://api.watttime.org'`. */
  baseUrl?: string;
}

/** 1 lb/MWh = 453.59237 g per 1000 kWh. */
export const LBS_PER_MWH_TO_G_PER_KWH = 0.45359237;
/** WattTime tokens last 30 min; log in again a little before. */
const TOKEN_LIFETIME_MS = 25 * 60_000;

interface Target {
  key: string;
  region?: string;
  lat?: number;
  lon?: number;
}

function targetFor(o: WattTimeOptions, loc: Location): Target | string {
  if (o.region) return { key: `region=${o.region}`, region: o.region };
  const place = cloudPlace(loc.cloudProvider, loc.cloudRegion);
  const lat = o.lat ?? place?.latitude ?? loc.latitude;
  const lon = o.lon ?? place?.longitude ?? loc.longitude;
  if (lat !== undefined && lon !== undefined) return { key: `lat=${lat}&lon=${lon}`, lat, lon };
  return 'no WattTime region or coordinates are known (set region, or lat and lon)';
}

/** The first point of a `{ data: [{ point_time, value }], meta: { units } }` answer, in g/kWh. */
function moerPoint(body: unknown, last: boolean): { gPerKWh: number; at?: string } {
  if (!isObject(body) || !Array.isArray(body.data) || body.data.length === 0)
    throw new LiveRequestError('malformed', 'WattTime answer has no data points');
  const p = body.data[last ? body.data.length - 1 : 0] as unknown;
  if (!isObject(p) || typeof p.value !== 'number') throw new LiveRequestError('malformed', 'WattTime data point has no numeric value');
  const units = isObject(body.meta) ? body.meta.units : undefined;
  if (units !== undefined && units !== 'lbs_co2_per_mwh') throw new LiveRequestError('malformed', `WattTime answered in unexpected units '${String(units)}'`);
  return { gPerKWh: p.value * LBS_PER_MWH_TO_G_PER_KWH, ...(typeof p.point_time === 'string' ? { at: p.point_time } : {}) };
}

/**
 * Live marginal operating emissions rate (MOER, `co2_moer`) from WattTime API v3: logs in
 * (`GET /login`, Basic auth) for a 30-minute token, finds the region from coordinates when needed
 * (`/v3/region-from-loc`), then reads the current MOER from `/v3/forecast` (or the last point of
 * `/v3/historical`), converting lbs/MWh to g/kWh. Plans that only cover the 0–100 signal index
 * (`/v3/signal-index`) give no intensity: the provider warns and the chain falls through.
 */
export function wattTimeProvider(options: WattTimeOptions): IntensityProvider {
  const o = options ?? ({} as WattTimeOptions);
  for (const k of ['username', 'password'] as const)
    if (typeof o[k] !== 'string' || o[k] === '')
      throw new WattprintError('INVALID_OPTION', `wattTimeProvider(): ${k} must be a non-empty string (your WattTime account)`, { option: k });
  if ((o.lat === undefined) !== (o.lon === undefined) || [o.lat, o.lon].some((v) => v !== undefined && !Number.isFinite(v)))
    throw new WattprintError('INVALID_OPTION', 'wattTimeProvider(): give both lat and lon as finite numbers, or neither', { option: 'lat' });
  checkTiming('wattTimeProvider', o);
  const base = baseUrlOf('wattTimeProvider', o.baseUrl, 'https://api.watttime.org');
  const url = (path: string, query: Record<string, string | number> = {}) => apiUrl(base, path, query);
  const basic = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  let token: { value: string; atMs: number } | undefined;
  const regions = new Map<string, string>();

  const login = async (signal: AbortSignal, timeoutMs: number): Promise<string> => {
    if (token && Date.now() - token.atMs < TOKEN_LIFETIME_MS) return token.value;
    const body = await requestJson(url('login'), { headers: { authorization: basic }, timeoutMs, signal });
    if (!isObject(body) || typeof body.token !== 'string') throw new LiveRequestError('malformed', 'WattTime login answer has no token');
    token = { value: body.token, atMs: Date.now() };
    return token.value;
  };
  /** An authorized GET; a 401 means the token expired: log in once more. */
  const get = async (u: URL, signal: AbortSignal, timeoutMs: number): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      const bearer = await login(signal, timeoutMs);
      try {
        return await requestJson(u, { headers: { authorization: `Bearer ${bearer}` }, timeoutMs, signal });
      } catch (e) {
        if (attempt === 0 && e instanceof LiveRequestError && e.status === 401) token = undefined;
        else throw e;
      }
    }
  };

  return liveProvider<Target>({
    ...timingOf(o),
    id: 'watttime',
    ttlMs: o.ttlMs ?? 5 * 60_000,
    secrets: [o.password, basic.slice(6)],
    fixes: { unauthorized: 'check the WattTime username and password, and that your plan covers this region' },
    target: (loc) => targetFor(o, loc),
    async fetch(t, signal, timeoutMs) {
      let region = t.region ?? regions.get(t.key);
      if (!region) {
        const found = await get(url('v3/region-from-loc', { latitude: t.lat!, longitude: t.lon!, signal_type: 'co2_moer' }), signal, timeoutMs);
        if (!isObject(found) || typeof found.region !== 'string') throw new LiveRequestError('malformed', 'WattTime region-from-loc answer has no region');
        regions.set(t.key, (region = found.region));
      }
      let point: { gPerKWh: number; at?: string };
      try {
        point = moerPoint(await get(url('v3/forecast', { region, signal_type: 'co2_moer', horizon_hours: 0 }), signal, timeoutMs), false);
      } catch (e) {
        if (!(e instanceof LiveRequestError && e.status === 403)) throw e;
        const endMs = Date.now();
        const range = { start: new Date(endMs - 15 * 60_000).toISOString(), end: new Date(endMs).toISOString() };
        try {
          point = moerPoint(await get(url('v3/historical', { region, signal_type: 'co2_moer', ...range }), signal, timeoutMs), true);
        } catch (e2) {
          if (!(e2 instanceof LiveRequestError && e2.status === 403)) throw e2;
          const index = await get(url('v3/signal-index', { region, signal_type: 'co2_moer' }), signal, timeoutMs).catch(() => undefined);
          const pct = isObject(index) && Array.isArray(index.data) && isObject(index.data[0]) ? index.data[0].value : undefined;
          throw new LiveRequestError(
            'unauthorized',
            `the WattTime plan covers no MOER values for ${region}` +
              (typeof pct === 'number' ? ` (only the signal index, now ${pct}: a 0–100 percentile, not an intensity)` : ''),
            403,
          );
        }
      }
      const year = point.at ? new Date(point.at).getUTCFullYear() : NaN;
      return {
        gPerKWh: point.gPerKWh,
        source: 'WattTime marginal operating emissions rate (co2_moer)',
        zone: region,
        ...(point.at ? { validAt: point.at } : {}),
        ...(Number.isFinite(year) ? { year } : {}),
        signal: 'marginal',
        emissionFactor: 'direct',
      };
    },
  });
}
