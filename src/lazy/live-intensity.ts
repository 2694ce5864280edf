// The live grid-intensity providers, one chunk of the build (dist/lazy-live-intensity.cjs) that
// src/lazy/index.ts loads when one of them is first created, with the network location lookups.
export { electricityMapsProvider } from '../intensity/electricity-maps.js';
export { ukCarbonIntensityProvider } from '../intensity/uk-carbon-intensity.js';
export { wattTimeProvider } from '../intensity/watttime.js';
export { cloudRegionFromMetadata, geolocate } from '../intensity/location.js';
