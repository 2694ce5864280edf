import { lazyTable } from './tables.js';

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
const cloudTable = lazyTable<Record<'aws' | 'azure', Record<string, Row>>>('cloud-regions.json');
const tzTable = lazyTable<{ countries: Record<string, string>; zones: Record<string, string> }>('timezones.json');
let alpha2Of: Record<string, string> | undefined;

/** The AWS or Azure region's country, offline region and grid zone (see data/cloud-regions.json for sources). */
export function cloudPlace(provider: string | undefined, region: string | undefined): CloudPlace | undefined {
  const p = provider?.toLowerCase();
  if ((p !== 'aws' && p !== 'azure') || !region) return undefined;
  const row = cloudTable()[p][region.toLowerCase()];
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
  if (!iso3) return undefined;
  alpha2Of ??= Object.fromEntries(Object.entries(tzTable().countries).map(([a2, a3]) => [a3, a2]));
  return alpha2Of[iso3.toUpperCase()];
}

/** ISO 3166-1 alpha-2 → alpha-3 (`'FR'` → `'FRA'`). */
export function alpha3(iso2: string | undefined): string | undefined {
  return iso2 ? tzTable().countries[iso2.toUpperCase()] : undefined;
}

/**
 * The country (alpha-3) of an IANA time zone, from the tz database's zone.tab (each zone's main
 * country) and its links: `'Europe/Paris'` → `'FRA'`, `'Asia/Calcutta'` → `'IND'`; `undefined`
 * for `UTC` and other zones without a country.
 */
export function timeZoneCountry(timeZone: string | undefined): string | undefined {
  if (!timeZone) return undefined;
  const zones = tzTable().zones;
  return Object.hasOwn(zones, timeZone) ? alpha3(zones[timeZone]) : undefined;
}
