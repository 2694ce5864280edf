import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Location } from '../types.js';
import { isObject, LiveRequestError, requestJson } from './http.js';
import { alpha3 } from './places.js';

export type CloudVendor = 'aws' | 'gcp' | 'azure';

/** Azure's fixed DMI chassis asset tag, which tells an Azure VM from a local Hyper-V one. */
const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

function dmi(sysfsRoot: string, name: string): string {
  try {
    return readFileSync(join(sysfsRoot, 'class/dmi/id', name), 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The cloud whose VM this is, from the DMI strings the hypervisor sets (no network): AWS
 * (`sys_vendor` or `bios_vendor` "Amazon EC2", or a Xen BIOS version with "amazon"), GCP
 * (`sys_vendor` "Google" / `product_name` "Google Compute Engine"), Azure ("Microsoft Corporation"
 * with Azure's chassis asset tag). `undefined` elsewhere, so no metadata request is ever sent.
 */
export function cloudVendor(sysfsRoot: string): CloudVendor | undefined {
  const sys = dmi(sysfsRoot, 'sys_vendor');
  const bios = dmi(sysfsRoot, 'bios_vendor');
  const product = dmi(sysfsRoot, 'product_name');
  if (/amazon ec2/i.test(sys) || /amazon ec2/i.test(bios) || /amazon/i.test(dmi(sysfsRoot, 'bios_version'))) return 'aws';
  if (/^google/i.test(sys) || /google compute engine/i.test(product)) return 'gcp';
  if (/microsoft corporation/i.test(sys) && dmi(sysfsRoot, 'chassis_asset_tag') === AZURE_ASSET_TAG) return 'azure';
  return undefined;
}

/** Where instance metadata is asked: link-local only. Tests inject a local server. */
export const METADATA_BASE_URL = 'http://169.254.169.254';

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

/** IP geolocation service used only with `geolocate: true` (the one CodeCarbon uses). */
export const GEOLOCATION_URL = 'https://get.geojs.io/v1/ip/geo.json';

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
