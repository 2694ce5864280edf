import type { ResolvedOptions } from '../options.js';
import type { IntensityProvider, IntensityValue, Location } from '../types.js';
import { offlineIntensityProvider } from './offline.js';

/** The location options as the `Location` an intensity provider takes (absent fields left out). */
export function locationOf(o: Pick<ResolvedOptions, 'countryIsoCode' | 'region' | 'cloudProvider' | 'cloudRegion'>): Location {
  return {
    ...(o.countryIsoCode ? { countryIsoCode: o.countryIsoCode } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.cloudProvider ? { cloudProvider: o.cloudProvider } : {}),
    ...(o.cloudRegion ? { cloudRegion: o.cloudRegion } : {}),
  };
}

/** The provider the options ask for: a forced constant, the user's provider, else the offline data. */
export function intensityProviderFor(o: Pick<ResolvedOptions, 'forceCarbonIntensityGPerKWh' | 'intensityProvider'>): IntensityProvider {
  if (o.forceCarbonIntensityGPerKWh === undefined) return o.intensityProvider ?? offlineIntensityProvider();
  const value: IntensityValue = { gPerKWh: o.forceCarbonIntensityGPerKWh, source: 'forceCarbonIntensityGPerKWh (user-provided)' };
  return { id: 'forced', getIntensity: () => value };
}
