import cloud from './data/cloud-regions.json' with { type: 'json' };
import tz from './data/timezones.json' with { type: 'json' };

/** Where a cloud region's servers draw their electricity. */
export interface CloudPlace {
  /** ISO 3166-1 alpha-3. */
  readonly countryIsoCode: string;
  /** Key of the offline regional data: US state, Canadian province or Nordic zone. */
  readonly region?: string;
  /** Electricity Maps zone, where one zone covers the region. */
  readonly zone?: string;
  readonly city: string;
  readonly latitude: number;
  readonly longitude: number;
}

interface Row {
  country: string;
  region?: string;
  zone?: string;
  city: string;
  lat: number;
  lon: number;
}
const CLOUD: Record<'aws' | 'azure', Record<string, Row>> = { aws: cloud.aws, azure: cloud.azure };
const ALPHA3 = tz.countries as Record<string, string>;
const ALPHA2 = Object.fromEntries(Object.entries(ALPHA3).map(([a2, a3]) => [a3, a2]));
const ZONES = tz.zones as Record<string, string>;

/** The AWS or Azure region's country, offline region and grid zone (see data/cloud-regions.json for sources). */
export function cloudPlace(provider: string | undefined, region: string | undefined): CloudPlace | undefined {
  const p = provider?.toLowerCase();
  if ((p !== 'aws' && p !== 'azure') || !region) return undefined;
  const row = CLOUD[p][region.toLowerCase()];
  if (!row) return undefined;
  return {
    countryIsoCode: row.country,
    ...(row.region ? { region: row.region } : {}),
    ...(row.zone ? { zone: row.zone } : {}),
    city: row.city,
    latitude: row.lat,
    longitude: row.lon,
  };
}

/** Whether `region` is in the AWS or Azure table. */
export function isKnownCloudRegion(provider: string, region: string): boolean {
  return cloudPlace(provider, region) !== undefined;
}

/** ISO 3166-1 alpha-3 → alpha-2 (`'FRA'` → `'FR'`). */
export function alpha2(iso3: string | undefined): string | undefined {
  return iso3 ? ALPHA2[iso3.toUpperCase()] : undefined;
}

/** ISO 3166-1 alpha-2 → alpha-3 (`'FR'` → `'FRA'`). */
export function alpha3(iso2: string | undefined): string | undefined {
  return iso2 ? ALPHA3[iso2.toUpperCase()] : undefined;
}

/**
 * The country (alpha-3) of an IANA time zone, from the tz database's zone.tab (each zone's main
 * country) and its links: `'Europe/Paris'` → `'FRA'`, `'Asia/Calcutta'` → `'IND'`; `undefined`
 * for `UTC` and other zones without a country.
 */
export function timeZoneCountry(timeZone: string | undefined): string | undefined {
  return timeZone && Object.hasOwn(ZONES, timeZone) ? alpha3(ZONES[timeZone]) : undefined;
}

/** The tz database version the time-zone table was generated from. */
export const TZDATA_VERSION = tz.tzdataVersion;
