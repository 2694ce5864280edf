// Where the location is asked over the network: loaded with the live providers' chunk
// (src/lazy/live-intensity.ts) only when a run has no location of its own.
import type { Location } from '../types.js';
import type { CloudVendor } from './cloud.js';
import { isObject, LiveRequestError, requestJson } from './http.js';
import { alpha3 } from './places.js';

/**
 * The VM's region from its cloud's instance metadata service (link-local, no DNS):
 * AWS IMDSv2 (`PUT /latest/api/token`, then `/latest/meta-data/placement/region`), GCP
 * (`/computeMetadata/v1/instance/zone` with `Metadata-Flavor: Google`, zone → region), Azure
 * (`/metadata/instance/compute/location` with `Metadata: true`). Throws {@link LiveRequestError}.
 */
export async function cloudRegionFromMetadata(vendor: CloudVendor, baseUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const u = (path: string) => new URL(path, baseUrl);
  const common = { timeoutMs, text: true, maxRedirects: 0, ...(signal ? { signal } : {}) };
  let region: unknown;
  if (vendor === 'aws') {
    const token = await requestJson(u('/latest/api/token'), { ...common, method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
    region = await requestJson(u('/latest/meta-data/placement/region'), { ...common, headers: { 'x-aws-ec2-metadata-token': String(token) } });
  } else if (vendor === 'gcp') {
    const zone = await requestJson(u('/computeMetadata/v1/instance/zone'), { ...common, headers: { 'metadata-flavor': 'Google' } });
    region = /zones\/([a-z0-9-]+)-[a-z]$/.exec(String(zone))?.[1];
  } else {
    region = await requestJson(u('/metadata/instance/compute/location?api-version=2021-02-01&format=text'), { ...common, headers: { metadata: 'true' } });
  }
  if (typeof region !== 'string' || !/^[a-z0-9-]{2,40}$/i.test(region))
    throw new LiveRequestError('malformed', `the ${vendor} metadata service gave no region`);
  return region.toLowerCase();
}

/**
 * The country (and US state or Canadian province name, lower-case) of the host's public IP, from
 * geojs.io's `{ country_code3, region, latitude, longitude }`. Only called with `geolocate: true`.
 */
export async function geolocate(url: string, timeoutMs: number, signal?: AbortSignal): Promise<Location> {
  const body = await requestJson(new URL(url), { timeoutMs, ...(signal ? { signal } : {}) });
  if (!isObject(body)) throw new LiveRequestError('malformed', 'the geolocation answer is not an object');
  const b = body;
  const iso3 =
    typeof b.country_code3 === 'string' ? b.country_code3.toUpperCase() : typeof b.country_code === 'string' ? alpha3(b.country_code) : undefined;
  if (!iso3 || !/^[A-Z]{3}$/.test(iso3)) throw new LiveRequestError('malformed', 'the geolocation answer has no country code');
  const lat = Number(b.latitude);
  const lon = Number(b.longitude);
  return {
    countryIsoCode: iso3,
    ...((iso3 === 'USA' || iso3 === 'CAN') && typeof b.region === 'string' && b.region ? { region: b.region.toLowerCase() } : {}),
    ...(Number.isFinite(lat) && Number.isFinite(lon) && b.latitude !== undefined && b.longitude !== undefined ? { latitude: lat, longitude: lon } : {}),
  };
}
