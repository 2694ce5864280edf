// Regenerates the offline grid-intensity data from CodeCarbon's codecarbon/data folder (MIT, see LICENSE).
// Usage: node src/intensity/data/generate.mjs [path/to/codecarbon/data]
// Source used for the shipped files: mlco2/codecarbon b05965e43b690cdc53787c7577adbe6e2caf4ed9 (3.3.0).
//
// Only what the lookup uses is kept:
// - global-energy-mix.json: per country country_name, iso_code, carbon_intensity, year; the TWh fields
//   of the per-source fallback (coal, fossil, hydroelectricity, nuclear, solar, wind, total) only on
//   rows whose carbon_intensity is 0 or missing (today only CAF).
// - usa-emissions.json: lbs CO2/MWh per state (folder 2016); canada-energy-mix.json: % generation per
//   province (folder 2023), unchanged; nordic-emissions.json and carbon-intensity-per-source.json unchanged.
// - gcp-impact.json: cloud/impact.csv (BOM stripped), GCP rows keyed by region.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseCsv } from '../../estimate/data/generate.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = process.argv[2] ?? join(here, '../../../../shared/data/codecarbon');
const read = (p) => readFileSync(join(dataDir, p), 'utf8');
const write = (name, value) => {
  writeFileSync(join(here, name), JSON.stringify(value, null, 1) + '\n');
  console.log(`${name}: ${Object.keys(value.data ?? value).length} entries`);
};

/** Sources whose `<source>_TWh` enters CodeCarbon's per-source computation, in the file's key order. */
const MIX_SOURCES = ['coal', 'fossil', 'hydroelectricity', 'nuclear', 'solar', 'wind'];

const mix = JSON.parse(read('private_infra/global_energy_mix.json'));
const countries = {};
for (const [iso, row] of Object.entries(mix)) {
  const out = { country_name: row.country_name, iso_code: row.iso_code, carbon_intensity: row.carbon_intensity, year: row.year };
  if (!row.carbon_intensity) {
    for (const s of MIX_SOURCES) if (`${s}_TWh` in row) out[`${s}_TWh`] = row[`${s}_TWh`];
    out.total_TWh = row.total_TWh;
  }
  countries[iso] = out;
}
write('global-energy-mix.json', {
  source: 'Our World in Data energy data via CodeCarbon 3.3.0 private_infra/global_energy_mix.json',
  unit: 'gCO2eq/kWh',
  data: countries,
});

const usa = JSON.parse(read('private_infra/2016/usa_emissions.json'));
write('usa-emissions.json', {
  source: 'CodeCarbon 3.3.0 private_infra/2016/usa_emissions.json (from the energy-usage project)',
  unit: 'lbs CO2/MWh',
  year: 2016,
  // `_unit` is a metadata row; `usa` (the national average) is kept, as CodeCarbon accepts it as a region.
  data: Object.fromEntries(Object.entries(usa).filter(([k]) => !k.startsWith('_')).map(([state, v]) => [state, v.emissions])),
});

write('canada-energy-mix.json', {
  source: 'CodeCarbon 3.3.0 private_infra/2023/canada_energy_mix.json',
  unit: '% of generation',
  year: 2023,
  data: JSON.parse(read('private_infra/2023/canada_energy_mix.json')),
});

writeFileSync(join(here, 'nordic-emissions.json'), read('private_infra/nordic_emissions.json'));
writeFileSync(join(here, 'carbon-intensity-per-source.json'), read('private_infra/carbon_intensity_per_source.json'));

const [header, ...rows] = parseCsv(read('cloud/impact.csv').replace(/^\uFEFF/, ''));
const col = (name) => header.indexOf(name);
const regions = {};
for (const r of rows) {
  if (r.length < header.length || r[col('provider')] !== 'gcp') continue;
  const entry = { countryName: r[col('country_name')], countryIsoCode: r[col('countryIsoCode')], city: r[col('city')], gPerKWh: Number(r[col('impact')]) };
  if (r[col('state')]) entry.state = r[col('state')];
  regions[r[col('region')]] = entry;
}
write('gcp-impact.json', {
  source: 'Google Cloud region carbon data (https://cloud.google.com/sustainability/region-carbon#data) via CodeCarbon 3.3.0 cloud/impact.csv',
  updated: '2024-07',
  unit: 'gCO2eq/kWh',
  data: regions,
});
