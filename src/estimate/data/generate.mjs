// Regenerates cpu-tdp.json from CodeCarbon's hardware/cpu_power.csv (MIT, see LICENSE).
// Usage: node src/estimate/data/generate.mjs [path/to/codecarbon/data]
// Source used for the shipped file: mlco2/codecarbon b05965e43b690cdc53787c7577adbe6e2caf4ed9 (3.3.0).
//
// Every row is kept, in table order (the matching rules depend on order and on row count).
// Repairs: 4 TDP cells hold two numbers run together ("27.29.5"), read as a range A–B.C W,
// of which the upper bound is kept because a TDP is a maximum (the neighbouring
// "Intel Celeron 1300,33.4" row fits that reading):
//   Intel Celeron 1000A 27.29.5 -> 29.5 | Intel Celeron 1100A 27.29.5 -> 29.5
//   Intel Celeron 1200  29.32.9 -> 32.9 | Intel Celeron 1400  33.34.8 -> 34.8
// "Intel Quark Microcontroller D1000,0.0" is kept as 0; the TDP source treats 0 as unknown, as CodeCarbon does.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = process.argv[2] ?? join(here, '../../../../shared/data/codecarbon');

/** Minimal RFC 4180 parser (quoted fields with commas and doubled quotes). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

const REPAIRED = {
  'Intel Celeron 1000A': 29.5,
  'Intel Celeron 1100A': 29.5,
  'Intel Celeron 1200': 32.9,
  'Intel Celeron 1400': 34.8,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [header, ...rows] = parseCsv(readFileSync(join(dataDir, 'hardware/cpu_power.csv'), 'utf8'));
  if (header.join(',') !== 'Name,TDP') throw new Error(`unexpected header ${header}`);
  const out = rows.map(([name, tdp]) => {
    const watts = /^\d+(\.\d+)?$/.test(tdp) ? Number(tdp) : REPAIRED[name];
    if (watts === undefined) throw new Error(`malformed TDP not covered by a repair: ${name},${tdp}`);
    return [name, watts];
  });
  const json = {
    source: 'CodeCarbon 3.3.0 codecarbon/data/hardware/cpu_power.csv (commit b05965e4), MIT licence',
    columns: ['name', 'tdpW'],
    rows: out,
  };
  writeFileSync(join(here, 'cpu-tdp.json'), JSON.stringify(json) + '\n');
  console.log(`cpu-tdp.json: ${out.length} rows`);
}
