import { WattprintError } from '../errors.js';
import type { IntensityProvider } from '../types.js';
import { apiUrl, baseUrlOf, isObject, LiveRequestError, requestJson } from './http.js';
import { checkTiming, liveProvider, timingOf, type LiveTiming } from './live.js';

/** Options of {@link ukCarbonIntensityProvider}. No key is needed. */
export interface UkCarbonIntensityOptions extends LiveTiming {
  /** Region id of the API, 1–17 (1 North Scotland … 13 London … 15 England, 16 Scotland, 17 Wales). */
  region?: number;
  /** A postcode; only its outward part (`'RG10'` of `'RG10 8AB'`) is sent. */
  postcode?: string;
  /** Default `'https://api.carbonintensity.org.uk'`. */
  baseUrl?: string;
}

interface Target {
  key: string;
  path: string;
  zone: string;
}

const OUTWARD = /^([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{2})?$/;

/** `{ from, intensity: { forecast, actual? } }` → the value in force (the estimated actual where published). */
function period(p: unknown): { gPerKWh: number; from?: string; kind: 'actual' | 'forecast' } {
  if (!isObject(p) || !isObject(p.intensity)) throw new LiveRequestError('malformed', 'Carbon Intensity answer has no intensity');
  const { actual, forecast } = p.intensity;
  const from = typeof p.from === 'string' ? p.from : undefined;
  if (typeof actual === 'number') return { gPerKWh: actual, kind: 'actual', ...(from ? { from } : {}) };
  if (typeof forecast === 'number') return { gPerKWh: forecast, kind: 'forecast', ...(from ? { from } : {}) };
  throw new LiveRequestError('malformed', 'Carbon Intensity answer has no numeric forecast or actual');
}

/**
 * Live intensity of Great Britain's grid from the National Energy System Operator's Carbon
 * Intensity API (carbonintensity.org.uk): national (`GET /intensity`), a region
 * (`/regional/regionid/{id}`) or a postcode's region (`/regional/postcode/{outward}`), for the
 * current half hour. Direct (operational) emission factors, imports included. Without `region` or
 * `postcode` it answers only where the location is GBR.
 */
export function ukCarbonIntensityProvider(options: UkCarbonIntensityOptions = {}): IntensityProvider {
  const o = options ?? {};
  if (o.region !== undefined && (!Number.isInteger(o.region) || o.region < 1 || o.region > 17))
    throw new WattprintError('INVALID_OPTION', `ukCarbonIntensityProvider(): region must be a region id from 1 to 17 (e.g. 13 for London), got ${String(o.region)}`, { option: 'region' });
  const outward = o.postcode === undefined ? undefined : OUTWARD.exec(String(o.postcode).trim().toUpperCase())?.[1];
  if (o.postcode !== undefined && !outward)
    throw new WattprintError('INVALID_OPTION', `ukCarbonIntensityProvider(): postcode must be a UK postcode such as 'RG10' or 'SW1A 1AA'`, { option: 'postcode' });
  if (o.region !== undefined && outward) throw new WattprintError('INVALID_OPTION', 'ukCarbonIntensityProvider(): give region or postcode, not both', { option: 'postcode' });
  checkTiming('ukCarbonIntensityProvider', o);
  const base = baseUrlOf('ukCarbonIntensityProvider', o.baseUrl, 'https://api.carbonintensity.org.uk');
  const fixed: Target | undefined = outward
    ? { key: `postcode/${outward}`, path: `regional/postcode/${outward}`, zone: `GB-${outward}` }
    : o.region !== undefined
      ? { key: `region/${o.region}`, path: `regional/regionid/${o.region}`, zone: `GB-${o.region}` }
      : undefined;
  return liveProvider<Target>({
    ...timingOf(o),
    id: 'uk-carbon-intensity',
    ttlMs: o.ttlMs ?? 15 * 60_000,
    secrets: [],
    target: (loc) =>
      fixed ??
      (loc.countryIsoCode?.toUpperCase() === 'GBR'
        ? { key: 'national', path: 'intensity', zone: 'GB' }
        : `it covers Great Britain only and the location is ${loc.countryIsoCode ?? 'unknown'} (set region or postcode to force it)`),
    async fetch(t, signal, timeoutMs) {
      const body = await requestJson(apiUrl(base, t.path), { timeoutMs, signal });
      if (!isObject(body) || !Array.isArray(body.data) || body.data.length === 0)
        throw new LiveRequestError('malformed', 'Carbon Intensity answer has no data');
      const first = body.data[0] as unknown;
      let p: ReturnType<typeof period>;
      let zone = t.zone;
      let region: string | undefined;
      if (t.key === 'national') p = period(first);
      else {
        if (!isObject(first) || !Array.isArray(first.data) || first.data.length === 0)
          throw new LiveRequestError('malformed', 'Carbon Intensity regional answer has no data');
        p = period(first.data[0]);
        if (typeof first.regionid === 'number') zone = `GB-${first.regionid}`;
        if (typeof first.shortname === 'string') region = first.shortname;
      }
      const year = p.from ? new Date(p.from).getUTCFullYear() : NaN;
      return {
        gPerKWh: p.gPerKWh,
        source: `Carbon Intensity API (NESO), ${t.key === 'national' ? 'national' : 'regional'} ${p.kind}`,
        zone,
        countryIsoCode: 'GBR',
        ...(region ? { region } : {}),
        ...(p.from ? { validAt: p.from } : {}),
        ...(Number.isFinite(year) ? { year } : {}),
        signal: 'average',
        emissionFactor: 'direct',
      };
    },
  });
}
