// Regenerates timezones.json: the system time zone → country table used to guess the country
// offline when no location is configured (Europe/Paris → FR → FRA).
// Usage: node src/intensity/data/generate-timezones.mjs [zoneinfo dir] [iso_3166-1.json]
// Sources (Debian bookworm packages, read from the machine that generates):
// - tzdata 2025b `zone.tab` (one country per zone) and `tzdata.zi` links (`L target alias`, so that old
//   names such as Asia/Calcutta map like Asia/Kolkata). The tz database is in the public domain.
// - iso-codes 4.15.0 `iso_3166-1.json` for alpha-2 → alpha-3 (ISO 3166-1 codes are facts; the
//   iso-codes package is LGPL-2.1+, only the code pairs are kept).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const zoneinfo = process.argv[2] ?? '/usr/share/zoneinfo';
const isoFile = process.argv[3] ?? '/usr/share/iso-codes/json/iso_3166-1.json';

const version = /# version (\S+)/.exec(readFileSync(join(zoneinfo, 'tzdata.zi'), 'utf8'))?.[1] ?? 'unknown';
const zones = {};
for (const line of readFileSync(join(zoneinfo, 'zone.tab'), 'utf8').split('\n')) {
  if (line.startsWith('#') || !line.trim()) continue;
  const [cc, , tz] = line.split('\t');
  zones[tz] = cc;
}
let links = 0;
for (const line of readFileSync(join(zoneinfo, 'tzdata.zi'), 'utf8').split('\n')) {
  const m = /^L (\S+) (\S+)$/.exec(line);
  if (m && zones[m[1]] && !zones[m[2]]) {
    zones[m[2]] = zones[m[1]];
    links++;
  }
}
const countries = {};
for (const c of JSON.parse(readFileSync(isoFile, 'utf8'))['3166-1']) countries[c.alpha_2] = c.alpha_3;
const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
const out = {
  source: `IANA tz database ${version} zone.tab and links (public domain); ISO 3166-1 alpha-2 → alpha-3 from Debian iso-codes`,
  tzdataVersion: version,
  countries: sorted(countries),
  zones: sorted(zones),
};
writeFileSync(join(here, 'timezones.json'), JSON.stringify(out) + '\n');
console.log(`timezones.json: ${Object.keys(zones).length} zones (${links} links), ${Object.keys(countries).length} countries`);
