import { describe, expect, it } from 'vitest';
import energyMix from '../../src/intensity/data/global-energy-mix.json' with { type: 'json' };
import nordic from '../../src/intensity/data/nordic-emissions.json' with { type: 'json' };
import {
  countryName,
  gridIntensity,
  isKnownCountry,
  isKnownGcpRegion,
  isKnownRegion,
  offlineIntensityProvider,
} from '../../src/intensity/index.js';

const NORDIC_G_PER_KWH = Object.fromEntries(Object.entries(nordic.data).map(([k, v]) => [k, v.emission_factor]));

// Expected numbers are the values in CodeCarbon 3.3.0's data files (copied to src/intensity/data).
describe('gridIntensity: countries (Our World in Data via CodeCarbon)', () => {
  it.each([
    ['FRA', 'France', 56.039, 2023],
    ['USA', 'United States', 369.473, 2023],
    ['DEU', 'Germany', 380.95, 2023],
    ['IND', 'India', 713.441, 2023],
    ['SWE', 'Sweden', 40.695, 2023],
  ])('%s → %s, %d g/kWh (%d)', (iso, name, gPerKWh, year) => {
    const v = gridIntensity({ countryIsoCode: iso });
    expect(v).toMatchObject({ gPerKWh, year, countryName: name, countryIsoCode: iso });
    expect(v.source).toBe(`Our World in Data via CodeCarbon (${year})`);
    expect(v.isFallback).toBeUndefined();
    expect(v.warning).toBeUndefined();
  });

  it('accepts a lower-case ISO code', () => {
    expect(gridIntensity({ countryIsoCode: 'fra' }).gPerKWh).toBe(56.039);
  });

  it('computes a 0 intensity from the generation mix (CAF: 0.15 TWh, all hydro → 26 g/kWh)', () => {
    const v = gridIntensity({ countryIsoCode: 'CAF' });
    expect(v.gPerKWh).toBeCloseTo((0.15 / 0.15) * 26, 12);
    expect(v.year).toBe(2022);
    expect(v.source).toContain('generation mix (2022)');
  });

  it('ignores a region it has no data for outside USA/CAN, without a warning', () => {
    const v = gridIntensity({ countryIsoCode: 'DEU', region: 'bavaria' });
    expect(v).toMatchObject({ gPerKWh: 380.95, region: 'bavaria' });
    expect(v.warning).toBeUndefined();
  });
});

describe('gridIntensity: regions', () => {
  it('US state: lbs/MWh × 0.00045359237 × 1000 (california 452.541, texas 1049.527 lbs/MWh, 2016)', () => {
    const ca = gridIntensity({ countryIsoCode: 'USA', region: 'California' });
    expect(ca.gPerKWh).toBeCloseTo(452.541 * 0.45359237, 9);
    expect(ca).toMatchObject({ year: 2016, region: 'california', countryIsoCode: 'USA', countryName: 'United States' });
    expect(ca.source).toContain('2016');
    expect(gridIntensity({ countryIsoCode: 'USA', region: 'texas' }).gPerKWh).toBeCloseTo(1049.527 * 0.45359237, 9);
  });

  it('Canadian province: Σ fossil share × fuel factor (2023 mix)', () => {
    const kgPerKWh = { coal: 0.995725971, petroleum: 0.8166885263, naturalGas: 0.7438415916 };
    // Published shares (%, private_infra/2023/canada_energy_mix.json).
    const ontario = (0.0 / 100.1) * kgPerKWh.coal + (0.1 / 100.1) * kgPerKWh.petroleum + (8.6 / 100.1) * kgPerKWh.naturalGas;
    const alberta = (8.0 / 99.82) * kgPerKWh.coal + (0.02 / 99.82) * kgPerKWh.petroleum + (73.5 / 99.82) * kgPerKWh.naturalGas;
    const quebec = (0.3 / 100.01) * kgPerKWh.petroleum + (0.2 / 100.01) * kgPerKWh.naturalGas;
    const on = gridIntensity({ countryIsoCode: 'CAN', region: 'ontario' });
    expect(on.gPerKWh).toBeCloseTo(ontario * 1000, 9);
    expect(on).toMatchObject({ year: 2023, region: 'ontario', countryName: 'Canada' });
    expect(gridIntensity({ countryIsoCode: 'CAN', region: 'Alberta' }).gPerKWh).toBeCloseTo(alberta * 1000, 9);
    expect(gridIntensity({ countryIsoCode: 'CAN', region: 'quebec' }).gPerKWh).toBeCloseTo(quebec * 1000, 9);
  });

  it('Nordic bidding zones: SE3 18 g/kWh (2024), FI 72 (2025), country derived when absent', () => {
    expect(gridIntensity({ countryIsoCode: 'SWE', region: 'SE3' })).toMatchObject({
      gPerKWh: 18,
      year: 2024,
      region: 'se3',
      countryIsoCode: 'SWE',
      countryName: 'Sweden',
    });
    expect(gridIntensity({ region: 'se3' })).toMatchObject({ gPerKWh: 18, countryIsoCode: 'SWE' });
    expect(gridIntensity({ countryIsoCode: 'FIN', region: 'FI' })).toMatchObject({ gPerKWh: 72, year: 2025 });
    expect(gridIntensity({ region: 'NO4' })).toMatchObject({ gPerKWh: 18, countryIsoCode: 'NOR' });
    expect(gridIntensity({ countryIsoCode: 'SWE', region: 'SE3' }).source).toContain('ENTSO-E');
  });

  it('a bidding zone applies only with its own country (or none); with another, the country value and a warning', () => {
    const deu = gridIntensity({ countryIsoCode: 'DEU', region: 'NO2' });
    expect(deu).toMatchObject({ gPerKWh: 380.95, countryIsoCode: 'DEU', countryName: 'Germany', region: 'no2' });
    expect(deu.warning).toBe("region 'NO2' is a bidding zone of NOR, not of DEU; using the value of DEU");
    const fra = gridIntensity({ countryIsoCode: 'FRA', region: 'SE3' });
    expect(fra.gPerKWh).toBe(56.039);
    expect(fra.warning).toContain('bidding zone of SWE');
    const nor = gridIntensity({ countryIsoCode: 'NOR', region: 'NO2' });
    expect(nor).toMatchObject({ gPerKWh: NORDIC_G_PER_KWH.NO2, countryIsoCode: 'NOR', region: 'no2' });
    expect(nor.source).toContain('ENTSO-E');
    expect(nor.warning).toBeUndefined();
    expect(isKnownRegion('DEU', 'NO2')).toBe(false);
    expect(isKnownRegion('NOR', 'no2')).toBe(true);
    expect(isKnownRegion(undefined, 'SE3')).toBe(true);
  });

  it('a Nordic country with another region gets the country value', () => {
    expect(gridIntensity({ countryIsoCode: 'SWE', region: 'stockholm' }).gPerKWh).toBe(40.695);
  });

  it('an unknown US state falls back to the country value with a warning', () => {
    const v = gridIntensity({ countryIsoCode: 'USA', region: 'atlantis' });
    expect(v.gPerKWh).toBe(369.473);
    expect(v.warning).toContain("region 'atlantis'");
  });
});

describe('gridIntensity: GCP regions', () => {
  it('a GCP region takes precedence over the country', () => {
    const v = gridIntensity({ countryIsoCode: 'DEU', cloudProvider: 'gcp', cloudRegion: 'europe-west9' });
    // CodeCarbon writes impact.csv's state, or an empty cell where the row has none (Paris is its city).
    expect(v).toMatchObject({ gPerKWh: 34, countryIsoCode: 'FRA', countryName: 'France', region: '', city: 'Paris' });
    expect(v.source).toContain('Google Cloud');
    expect(gridIntensity({ cloudProvider: 'GCP', cloudRegion: 'us-central1' })).toMatchObject({
      gPerKWh: 430,
      countryIsoCode: 'USA',
      countryName: 'USA',
      region: 'Iowa',
    });
    expect(gridIntensity({ cloudProvider: 'gcp', cloudRegion: 'asia-northeast3' })).toMatchObject({ countryName: 'Korea', region: 'South Korea' });
  });

  it("accepts me-central1 for the data set's misspelt me-cenrtal1", () => {
    expect(gridIntensity({ cloudProvider: 'gcp', cloudRegion: 'me-central1' }).gPerKWh).toBe(575);
    expect(gridIntensity({ cloudProvider: 'gcp', cloudRegion: 'me-cenrtal1' }).gPerKWh).toBe(575);
  });

  it('an unknown GCP region falls through to the country, with a warning', () => {
    const v = gridIntensity({ countryIsoCode: 'FRA', cloudProvider: 'gcp', cloudRegion: 'mars-north1' });
    expect(v.gPerKWh).toBe(56.039);
    expect(v.warning).toContain('mars-north1');
  });

  it('other providers have no offline data: the country value', () => {
    expect(gridIntensity({ countryIsoCode: 'IND', cloudProvider: 'aws', cloudRegion: 'ap-south-1' }).gPerKWh).toBe(713.441);
  });
});

describe('gridIntensity: world-average fallback', () => {
  it('an unknown country → 475 g/kWh, isFallback, and a warning naming countryIsoCode', () => {
    const v = gridIntensity({ countryIsoCode: 'XYZ' });
    expect(v).toMatchObject({ gPerKWh: 475, isFallback: true, countryIsoCode: 'XYZ' });
    expect(v.warning).toMatch(/countryIsoCode 'XYZ'/);
    expect(v.source).toContain('IEA');
  });

  it('no location at all → 475 g/kWh with a warning naming countryIsoCode', () => {
    const v = gridIntensity({});
    expect(v).toMatchObject({ gPerKWh: 475, isFallback: true });
    expect(v.warning).toContain('countryIsoCode');
  });
});

describe('lookup helpers and the offline provider', () => {
  it('finds every row of the energy-mix table by its bytes, and nothing for keys that only look like one', () => {
    const rows = Object.entries(energyMix.data) as [string, { country_name: string; carbon_intensity?: number }][];
    expect(rows.length).toBe(213);
    for (const [iso, row] of rows) {
      expect(isKnownCountry(iso.toLowerCase())).toBe(true);
      expect(countryName(iso)).toBe(row.country_name);
      if (row.carbon_intensity) expect(gridIntensity({ countryIsoCode: iso }).gPerKWh).toBe(row.carbon_intensity);
    }
    // Fields and values of the file, and strings that would match them as text.
    for (const notIso of ['iso_code', 'ABW"', '"ABW', 'AB', 'ABWX', 'data', '}', 'Aruba', '']) expect(isKnownCountry(notIso)).toBe(false);
  });

  it('knows countries, names, GCP regions and sub-national regions', () => {
    expect(isKnownCountry('FRA')).toBe(true);
    expect(isKnownCountry('fra')).toBe(true);
    expect(isKnownCountry('FR')).toBe(false);
    expect(isKnownCountry('XYZ')).toBe(false);
    expect(countryName('DEU')).toBe('Germany');
    expect(countryName('XYZ')).toBeUndefined();
    expect(isKnownGcpRegion('europe-west9')).toBe(true);
    expect(isKnownGcpRegion('us-central9')).toBe(false);
    expect(isKnownRegion('USA', 'California')).toBe(true);
    expect(isKnownRegion('CAN', 'quebec')).toBe(true);
    expect(isKnownRegion(undefined, 'SE4')).toBe(true);
    expect(isKnownRegion('USA', 'quebec')).toBe(false);
  });

  it('offlineIntensityProvider answers gridIntensity, memoised per location', () => {
    const provider = offlineIntensityProvider();
    expect(provider.id).toBe('offline');
    const at = new Date('2026-01-01T00:00:00Z');
    const a = provider.getIntensity({ countryIsoCode: 'FRA' }, at);
    expect(a.gPerKWh).toBe(56.039);
    expect(provider.getIntensity({ countryIsoCode: 'FRA' }, new Date())).toBe(a);
    expect(provider.getIntensity({ countryIsoCode: 'USA', region: 'california' }, at).gPerKWh).toBeCloseTo(452.541 * 0.45359237, 9);
  });
});
