export {
  countryName,
  gridIntensity,
  isKnownCountry,
  isKnownGcpRegion,
  isKnownRegion,
  offlineIntensityProvider,
  WORLD_AVERAGE_G_PER_KWH,
  type GridIntensity,
} from './offline.js';
export { createIntensityChain, locationOf, type IntensityChain, type IntensityChainContext, type IntensityChainOptions } from './chain.js';
export { electricityMapsProvider, type ElectricityMapsOptions } from './electricity-maps.js';
export { ukCarbonIntensityProvider, type UkCarbonIntensityOptions } from './uk-carbon-intensity.js';
export { wattTimeProvider, LBS_PER_MWH_TO_G_PER_KWH, type WattTimeOptions } from './watttime.js';
export { fixedIntensityProvider, type FixedIntensityOptions } from './fixed.js';
export { emberIntensityProvider } from './ember.js';
export { cloudPlace, isKnownCloudRegion, timeZoneCountry, alpha2, alpha3, type CloudPlace } from './places.js';
export { cloudVendor, type CloudVendor } from './cloud.js';
export type { LiveTiming } from './live.js';
