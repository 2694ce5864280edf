import { requireHere } from '../require-here.js';
import { WattprintError } from '../errors.js';
import type { IntensityProvider, IntensityValue, Location } from '../types.js';
import { countryName } from './offline.js';
import { cloudPlace } from './places.js';

interface Co2Data {
  averageIntensity: { data: Record<string, number>; type: string };
}

const SOURCE = 'Ember yearly average via @tgwf/co2 (latest year per country, 2022–2024; CC BY-SA 4.0)';

/** Loads `@tgwf/co2/data` synchronously; a clear error when the optional peer is not installed. */
function loadCo2(): Co2Data {
  try {
    const data = requireHere('@tgwf/co2/data') as Partial<Co2Data>;
    if (!data.averageIntensity || typeof data.averageIntensity.data !== 'object') throw new Error('no averageIntensity data');
    return data as Co2Data;
  } catch (e) {
    throw new WattprintError(
      'MISSING_DEPENDENCY',
      `offlineIntensityData: 'ember' needs the optional package @tgwf/co2 (${(e as Error).message}); install it with \`npm install @tgwf/co2\`, or use the default 'codecarbon'`,
      { option: 'offlineIntensityData', cause: e },
    );
  }
}

/**
 * Ember's yearly country averages (gCO2e/kWh, lifecycle) from the optional peer `@tgwf/co2`.
 * Answers country-level locations only: a sub-national region (US state, Nordic zone, a cloud
 * region with one) and GCP regions fall through to CodeCarbon's finer offline data. Throws
 * `MISSING_DEPENDENCY` at construction when `@tgwf/co2` is not installed.
 */
export function emberIntensityProvider(): IntensityProvider {
  const table = loadCo2().averageIntensity.data;
  const cache = new Map<string, IntensityValue | undefined>();
  return {
    id: 'ember',
    getIntensity(loc: Location): IntensityValue | undefined {
      if (loc.region || loc.cloudProvider?.toLowerCase() === 'gcp') return undefined;
      const place = cloudPlace(loc.cloudProvider, loc.cloudRegion);
      if (place?.region) return undefined;
      const iso = (place?.countryIsoCode ?? loc.countryIsoCode)?.toUpperCase();
      if (!iso) return undefined;
      if (cache.has(iso)) return cache.get(iso);
      const g = table[iso];
      const name = countryName(iso);
      const value: IntensityValue | undefined =
        typeof g === 'number' && Number.isFinite(g)
          ? { gPerKWh: g, source: SOURCE, provider: 'ember', zone: iso, freshness: 'offline', countryIsoCode: iso, ...(name ? { countryName: name } : {}) }
          : undefined;
      cache.set(iso, value);
      return value;
    },
  };
}
