import { WattprintError } from '../errors.js';
import type { IntensityProvider, Location } from '../types.js';
import { apiUrl, baseUrlOf, isObject, LiveRequestError, requestJson } from './http.js';
import { checkTiming, liveProvider, timingOf, type LiveTiming } from './live.js';
import { alpha2, cloudPlace } from './places.js';

/** Options of {@link electricityMapsProvider}. */
export interface ElectricityMapsOptions extends LiveTiming {
  /** API key, sent as the `auth-token` header only; never written anywhere. */
  token: string;
  /** Zone key (`'FR'`, `'DE'`, `'US-CAL-CISO'`). Default: from `lat`/`lon`, else the tracker's location. */
  zone?: string;
  lat?: number;
  lon?: number;
  /** `'lifecycle'` (default: IPCC lifecycle factors, upstream included) or `'direct'` (combustion only). */
  emissionFactorType?: 'lifecycle' | 'direct';
  /** Default `'https://api.electricitymap.org'`. */
  baseUrl?: string;
}

interface Target {
  key: string;
  query: Record<string, string>;
  zone?: string;
}

/** The zone or coordinates to ask for at a location: explicit zone, coordinates, cloud region, GCP country, then the country. */
function targetFor(o: ElectricityMapsOptions, loc: Location): Target | string {
  const mk = (query: Record<string, string>, zone?: string): Target => ({
    key: new URLSearchParams(query).toString(),
    query,
    ...(zone ? { zone } : {}),
  });
  if (o.zone) return mk({ zone: o.zone }, o.zone);
  if (o.lat !== undefined && o.lon !== undefined) return mk({ lat: String(o.lat), lon: String(o.lon) });
  const place = cloudPlace(loc.cloudProvider, loc.cloudRegion);
  if (place?.zone) return mk({ zone: place.zone }, place.zone);
  if (place) return mk({ lat: String(place.latitude), lon: String(place.longitude) });
  if (loc.latitude !== undefined && loc.longitude !== undefined) return mk({ lat: String(loc.latitude), lon: String(loc.longitude) });
  const country = alpha2(loc.countryIsoCode);
  if (country) return mk({ zone: country }, country);
  return 'no zone, coordinates or country is known (set zone or lat/lon, or countryIsoCode)';
}

/**
 * Live grid intensity from Electricity Maps (`GET /v3/carbon-intensity/latest`, `auth-token`
 * header): the zone's average intensity for the latest hour, lifecycle factors by default.
 * Fetched in the background after the tracker starts, refreshed every `ttlMs` (default 15 min).
 *
 * @example
 * new EmissionsTracker({ intensityProvider: electricityMapsProvider({ token: process.env.EM_TOKEN!, zone: 'FR' }) });
 */
export function electricityMapsProvider(options: ElectricityMapsOptions): IntensityProvider {
  const o = options ?? ({} as ElectricityMapsOptions);
  if (typeof o.token !== 'string' || o.token.trim() === '')
    throw new WattprintError('INVALID_OPTION', 'electricityMapsProvider(): token must be a non-empty string (your Electricity Maps API key)', { option: 'token' });
  if ((o.lat === undefined) !== (o.lon === undefined) || [o.lat, o.lon].some((v) => v !== undefined && !Number.isFinite(v)))
    throw new WattprintError('INVALID_OPTION', 'electricityMapsProvider(): give both lat and lon as finite numbers, or neither', { option: 'lat' });
  if (o.emissionFactorType !== undefined && o.emissionFactorType !== 'lifecycle' && o.emissionFactorType !== 'direct')
    throw new WattprintError('INVALID_OPTION', "electricityMapsProvider(): emissionFactorType must be 'lifecycle' or 'direct'", { option: 'emissionFactorType' });
  checkTiming('electricityMapsProvider', o);
  const base = baseUrlOf('electricityMapsProvider', o.baseUrl, 'https://api.electricitymap.org');
  const factor = o.emissionFactorType ?? 'lifecycle';
  const token = o.token;
  return liveProvider<Target>({
    ...timingOf(o),
    id: 'electricity-maps',
    ttlMs: o.ttlMs ?? 15 * 60_000,
    secrets: [token],
    fixes: { unauthorized: 'check the Electricity Maps token and that it covers this zone', 'rate-limited': 'raise ttlMs or your plan' },
    target: (loc) => targetFor(o, loc),
    async fetch(t, signal, timeoutMs) {
      const url = apiUrl(base, 'v3/carbon-intensity/latest', { ...t.query, ...(factor === 'direct' ? { emissionFactorType: 'direct' } : {}) });
      const body = await requestJson(url, { headers: { 'auth-token': token }, timeoutMs, signal });
      if (!isObject(body) || typeof body.carbonIntensity !== 'number')
        throw new LiveRequestError('malformed', 'Electricity Maps answer has no numeric carbonIntensity');
      const zone = typeof body.zone === 'string' ? body.zone : t.zone;
      const when = typeof body.datetime === 'string' ? body.datetime : undefined;
      const answered = body.emissionFactorType === 'direct' || body.emissionFactorType === 'lifecycle' ? body.emissionFactorType : factor;
      const year = when ? new Date(when).getUTCFullYear() : undefined;
      return {
        gPerKWh: body.carbonIntensity,
        source: `Electricity Maps ${answered} average${body.isEstimated === true ? ' (estimated)' : ''}`,
        ...(zone ? { zone } : {}),
        ...(when ? { validAt: when } : {}),
        ...(year !== undefined && Number.isFinite(year) ? { year } : {}),
        signal: 'average',
        emissionFactor: answered,
      };
    },
  });
}
