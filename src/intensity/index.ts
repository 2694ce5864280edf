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
