import type { IntensityProvider, IntensityValue, Location } from '../types.js';
import perSource from './data/carbon-intensity-per-source.json' with { type: 'json' };
import { cloudPlace } from './places.js';
import { lazyTable, readTableBytes } from './tables.js';

/**
 * A grid intensity, plus a warning when a fallback was taken. `region` is written as CodeCarbon
 * writes it: lower-case for a region you gave; for a GCP row, the state of its impact.csv row or
 * `''` (its `city` is given separately).
 */
export type GridIntensity = IntensityValue & { warning?: string; city?: string };

interface CountryRow {
  country_name: string;
  iso_code: string;
  carbon_intensity?: number;
  year: number;
  total_TWh?: number;
  [twh: `${string}_TWh`]: number | undefined;
}
interface GcpRow { countryName: string; countryIsoCode: string; state?: string; city: string; gPerKWh: number }
type Mix = Record<string, number>;

// A run asks for a country or two: the energy-mix table (~45 KB of objects once parsed) is read as
// bytes and only the asked row parsed (an option check and the first sample need one row, not the
// 213). The file is the package's own (src/intensity/data/generate.mjs writes it with
// JSON.stringify): `"ISO":{` opens each flat row, exactly once.
const countryRows = new Map<string, CountryRow | null>();
function countryRow(iso3: string): CountryRow | undefined {
  if (!/^[A-Z]{3}$/.test(iso3)) return undefined;
  let row = countryRows.get(iso3);
  if (row === undefined) countryRows.set(iso3, (row = findCountryRow(iso3)));
  return row ?? undefined;
}
function findCountryRow(iso3: string): CountryRow | null {
  const bytes = readTableBytes('global-energy-mix.json');
  const key = `"${iso3}":`;
  const at = bytes.indexOf(key);
  if (at < 0) return null;
  const end = bytes.indexOf('}', at);
  return JSON.parse(bytes.toString('utf8', at + key.length, end + 1)) as CountryRow;
}
const gcpTable = lazyTable<{ updated: string; data: Record<string, GcpRow> }>('gcp-impact.json');
// The regional tables are read when a region is asked for: as object literals in the bundle they
// cost every import ~95 object shapes (V8 maps) and ~20 KB of heap, unused by a country's run.
const usaTable = lazyTable<{ year: number; data: Record<string, number> }>('usa-emissions.json');
const canadaTable = lazyTable<{ year: number; data: Record<string, Mix> }>('canada-energy-mix.json');
const nordicTable = lazyTable<{ data: Record<string, { emission_factor: number; year: number; description: string }> }>('nordic-emissions.json');
const PER_SOURCE = perSource as unknown as Record<string, number | string>;

/** World average used when nothing better is known (IEA, via CodeCarbon). */
export const WORLD_AVERAGE_G_PER_KWH = perSource.world_average;
/** CodeCarbon `LBS_MWH_TO_KG_KWH`: 1 lb = 0.45359237 kg, so lbs/MWh × 0.00045359237 = kg/kWh. */
const LBS_PER_MWH_TO_KG_PER_KWH = 0.00045359237;
/** kg CO2/kWh per fuel for the Canadian province mix (energy-usage project, as CodeCarbon). */
const CANADA_FUEL_KG_PER_KWH: Readonly<Record<string, number>> = {
  coal: 0.995725971,
  petroleum: 0.8166885263,
  naturalGas: 0.7438415916,
};
/** Sources of the per-source country fallback, in the data file's key order (sum order matters for `!==`). */
const MIX_SOURCES = ['coal', 'fossil', 'hydroelectricity', 'nuclear', 'solar', 'wind'];
/** The misspelt region id in CodeCarbon's impact.csv, also reachable by its real name. */
const GCP_ALIASES: Readonly<Record<string, string>> = { 'me-central1': 'me-cenrtal1' };
const NORDIC_COUNTRY: Readonly<Record<string, string>> = { SE: 'SWE', NO: 'NOR', FI: 'FIN' };

const SOURCE = {
  owid: (year: number) => `Our World in Data via CodeCarbon (${year})`,
  owidMix: (year: number) =>
    `Our World in Data generation mix (${year}) × per-source intensities (WNA, EPA eGRID, energy-usage) via CodeCarbon`,
  usa: 'US state emission rates via CodeCarbon usa_emissions.json (2016, energy-usage project)',
  canada: 'Canadian province generation mix via CodeCarbon (2023) × energy-usage fuel factors',
  nordic: (year: number) => `ENTSO-E historical averages via CodeCarbon nordic_emissions.json (${year})`,
  gcp: () => `Google Cloud region carbon data via CodeCarbon (updated ${gcpTable().updated})`,
  world: 'World average, IEA Global Energy & CO2 Status Report 2019, via CodeCarbon',
};

function gcpRow(region: string | undefined): GcpRow | undefined {
  if (!region) return undefined;
  const key = region.toLowerCase();
  return gcpTable().data[GCP_ALIASES[key] ?? key];
}

/** Whether `iso3` (ISO 3166-1 alpha-3, any case) is in the offline country data. */
export function isKnownCountry(iso3: string): boolean {
  return typeof iso3 === 'string' && countryRow(iso3.toUpperCase()) !== undefined;
}

/** The country's name in the data set, e.g. `countryName('DEU') === 'Germany'`. */
export function countryName(iso3: string): string | undefined {
  return typeof iso3 === 'string' ? countryRow(iso3.toUpperCase())?.country_name : undefined;
}

/** Whether `region` is a GCP region in the offline data (e.g. `'europe-west9'`). */
export function isKnownGcpRegion(region: string): boolean {
  return typeof region === 'string' && gcpRow(region) !== undefined;
}

/** The country of a Nordic bidding zone (`'NO2'` → `'NOR'`), or undefined for another region. */
function nordicCountry(region: string): string | undefined {
  const zone = region.toUpperCase();
  return Object.hasOwn(nordicTable().data, zone) ? NORDIC_COUNTRY[zone.slice(0, 2)] : undefined;
}

/**
 * Whether `region` has its own intensity for `iso3`: a US state name or Canadian province name
 * (any case, e.g. `'california'`, `'quebec'`), or a Nordic bidding zone of that country (`'SE3'`
 * with `'SWE'` or no country).
 */
export function isKnownRegion(iso3: string | undefined, region: string): boolean {
  if (typeof region !== 'string') return false;
  const iso = iso3?.toUpperCase();
  const zoneCountry = nordicCountry(region);
  if (zoneCountry) return iso === undefined || iso === zoneCountry;
  const key = region.toLowerCase();
  return (iso === 'USA' && Object.hasOwn(usaTable().data, key)) || (iso === 'CAN' && Object.hasOwn(canadaTable().data, key));
}

function worldAverage(warning: string, extra: Partial<IntensityValue> = {}): GridIntensity {
  return { gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: SOURCE.world, isFallback: true, ...extra, warning };
}

/** CodeCarbon `_global_energy_mix_to_emissions_rate`: the given intensity, else the TWh mix × per-source table. */
function countryIntensity(iso: string, region: string | undefined): GridIntensity {
  const row = countryRow(iso)!;
  const where = { countryName: row.country_name, countryIsoCode: iso, ...(region ? { region: region.toLowerCase() } : {}) };
  if (row.carbon_intensity) {
    return { gPerKWh: row.carbon_intensity, source: SOURCE.owid(row.year), year: row.year, ...where };
  }
  const totalTWh = row.total_TWh ?? 0;
  let gPerKWh = 0;
  let coveredTWh = 0;
  for (const s of MIX_SOURCES) {
    const twh = row[`${s}_TWh`];
    const factor = PER_SOURCE[s];
    if (twh === undefined || typeof factor !== 'number' || !factor) continue;
    gPerKWh += (twh / totalTWh) * factor;
    coveredTWh += twh;
  }
  if (coveredTWh !== totalTWh) {
    return worldAverage(
      `countryIsoCode '${iso}': the data set has no carbon intensity and its generation mix covers ` +
        `${coveredTWh} of ${totalTWh} TWh; using the world average ${WORLD_AVERAGE_G_PER_KWH} g/kWh`,
      where,
    );
  }
  return { gPerKWh, source: SOURCE.owidMix(row.year), year: row.year, ...where };
}

function regionalIntensity(iso: string | undefined, region: string): GridIntensity | undefined {
  const zone = nordicTable().data[region.toUpperCase()];
  const zoneIso = nordicCountry(region);
  // A bidding zone is part of one country's grid: with another country it says nothing.
  if (zone && zoneIso && (iso === undefined || iso === zoneIso)) {
    return {
      gPerKWh: zone.emission_factor,
      source: SOURCE.nordic(zone.year),
      year: zone.year,
      countryIsoCode: zoneIso,
      ...(countryName(zoneIso) ? { countryName: countryName(zoneIso)! } : {}),
      region: region.toLowerCase(),
    };
  }
  const key = region.toLowerCase();
  const usa = iso === 'USA' ? usaTable() : undefined;
  if (usa && Object.hasOwn(usa.data, key)) {
    const gPerKWh = usa.data[key]! * LBS_PER_MWH_TO_KG_PER_KWH * 1000;
    return { gPerKWh, source: SOURCE.usa, year: usa.year, countryName: countryName('USA')!, countryIsoCode: 'USA', region: key };
  }
  const canada = iso === 'CAN' ? canadaTable() : undefined;
  if (canada && Object.hasOwn(canada.data, key)) {
    const mix = canada.data[key]!;
    let kgPerKWh = 0;
    for (const [fuel, kg] of Object.entries(CANADA_FUEL_KG_PER_KWH)) kgPerKWh += ((mix[fuel] ?? 0) / mix.total!) * kg;
    return { gPerKWh: kgPerKWh * 1000, source: SOURCE.canada, year: canada.year, countryName: countryName('CAN')!, countryIsoCode: 'CAN', region: key };
  }
  return undefined;
}

/**
 * Grid carbon intensity for a location from the shipped data, with CodeCarbon 3.x's precedence:
 * 1. `cloudProvider: 'gcp'` and a known `cloudRegion` → Google's per-region figure; `'aws'` or
 *    `'azure'` and a known region → its country and, where the data has one, its state, province or
 *    Nordic zone (`us-east-1` → Virginia, `eu-north-1` → SE3; table in data/cloud-regions.json);
 * 2. a Nordic bidding zone (SE1–SE4, NO1–NO5, FI) → its static ENTSO-E factor; a US state (USA) →
 *    lbs/MWh × 0.00045359237 × 1000; a Canadian province (CAN) → fossil shares × fuel factors;
 * 3. the country's Our World in Data intensity (computed from its generation mix when the data set has 0);
 * 4. otherwise the world average, 475 g/kWh, with `isFallback: true` and a `warning`.
 *
 * Validates nothing: the tracker checks options with {@link isKnownCountry} and {@link isKnownGcpRegion}.
 * A region or cloud region that is not found falls through to the next step with a `warning`.
 *
 * @example
 * gridIntensity({ countryIsoCode: 'FRA' }) // { gPerKWh: 56.039, year: 2023, source: 'Our World in Data via CodeCarbon (2023)', ... }
 */
export function gridIntensity(loc: Location): GridIntensity {
  const warnings: string[] = [];
  const withWarnings = (v: GridIntensity): GridIntensity => {
    const all = [...warnings, ...(v.warning ? [v.warning] : [])];
    return all.length > 0 ? { ...v, warning: all.join('; ') } : v;
  };

  if (loc.cloudProvider?.toLowerCase() === 'gcp' && loc.cloudRegion) {
    const row = gcpRow(loc.cloudRegion);
    if (row) {
      // CodeCarbon writes impact.csv's own country name ('USA', 'Korea') and state; its empty
      // state cells read as NaN and are written as empty cells.
      return {
        gPerKWh: row.gPerKWh,
        source: SOURCE.gcp(),
        countryName: row.countryName,
        countryIsoCode: row.countryIsoCode,
        region: row.state ?? '',
        city: row.city,
      };
    }
    warnings.push(`cloudRegion '${loc.cloudRegion}' is not in the offline GCP data; using the country's grid`);
  }

  const provider = loc.cloudProvider?.toLowerCase();
  if ((provider === 'aws' || provider === 'azure') && loc.cloudRegion) {
    const place = cloudPlace(provider, loc.cloudRegion);
    if (place) {
      const v = gridIntensity({ countryIsoCode: place.countryIsoCode, ...(place.region ? { region: place.region } : {}) });
      return withWarnings({ ...v, source: `${v.source}; ${provider.toUpperCase()} ${loc.cloudRegion.toLowerCase()} is in ${place.city}` });
    }
    warnings.push(`cloudRegion '${loc.cloudRegion}' is not in the ${provider.toUpperCase()} region table; using the country's grid`);
  }

  const iso = loc.countryIsoCode?.toUpperCase();
  if (loc.region) {
    const regional = regionalIntensity(iso, loc.region);
    if (regional) return withWarnings(regional);
    const zoneIso = nordicCountry(loc.region);
    if (iso === 'USA' || iso === 'CAN') {
      warnings.push(`region '${loc.region}' is not in the offline data for ${iso}; using the country value`);
    } else if (zoneIso && iso && iso !== zoneIso) {
      warnings.push(`region '${loc.region}' is a bidding zone of ${zoneIso}, not of ${iso}; using the value of ${iso}`);
    }
  }
  if (iso && isKnownCountry(iso)) return withWarnings(countryIntensity(iso, loc.region));
  return withWarnings(
    worldAverage(
      iso
        ? `countryIsoCode '${loc.countryIsoCode}' is not in the offline data; using the world average ${WORLD_AVERAGE_G_PER_KWH} g/kWh`
        : `no countryIsoCode given; using the world average ${WORLD_AVERAGE_G_PER_KWH} g/kWh (set countryIsoCode, e.g. 'FRA')`,
      { ...(iso ? { countryIsoCode: iso } : {}), ...(loc.region ? { region: loc.region.toLowerCase() } : {}) },
    ),
  );
}

/** Nordic bidding zones are written upper-case (`SE3`), states and provinces as the data names them. */
const zoneOfRegion = (region: string) => (Object.hasOwn(nordicTable().data, region.toUpperCase()) ? region.toUpperCase() : region);

/**
 * The default {@link IntensityProvider}: {@link gridIntensity} on the shipped data, with no time
 * dependence (annual averages) and no network. Answers are memoised per location, and name the
 * provider (`offline`), the zone (region or country) and `freshness: 'offline'`.
 */
export function offlineIntensityProvider(): IntensityProvider {
  const cache = new Map<string, GridIntensity>();
  return {
    id: 'offline',
    getIntensity(location: Location): GridIntensity {
      const key = `${location.countryIsoCode}|${location.region}|${location.cloudProvider}|${location.cloudRegion}`;
      let value = cache.get(key);
      if (value === undefined) {
        const v = gridIntensity(location);
        const zone = location.cloudProvider?.toLowerCase() === 'gcp' && v.source === SOURCE.gcp() ? location.cloudRegion!.toLowerCase() : v.region ? zoneOfRegion(v.region) : v.countryIsoCode;
        cache.set(key, (value = { ...v, provider: 'offline', freshness: 'offline', ...(zone ? { zone } : {}) }));
      }
      return value;
    },
  };
}
