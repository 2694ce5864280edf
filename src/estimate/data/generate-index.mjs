// Precomputes the CPU TDP lookup (src/estimate/cpu-tdp-table.ts) from cpu-tdp.json, so a process
// never tokenises 4903 rows: run by `npm run build` (build:js), which ships the result once as
// dist/data/cpu-tdp.index.json; the copy here serves the sources and tests.
// test/estimate/cpu-tdp-index.test.ts rebuilds the index with the TypeScript tokeniser and
// compares it with this file, so the two cannot drift.
//
// Layout: strings rather than arrays of strings, so that loading is one short JSON.parse and a few
// native splits, and a lookup parses only the handful of entries it visits. Ids are base 36.
//   names      row names joined by "\n", table order (row i = line i); tdpW: watts per row
//   order      row ids sorted by (lower-case name, row): rules 1 and 2 binary-search it, and the
//              first of equal keys is the first row, as CodeCarbon keeps the first best match
//   vocab      every token of every row (rapidfuzz default_process + split), sorted, "\n"-joined
//   postings   per vocab entry, the ids of the rows holding it (ascending, ","), joined by ";"
//   tokenCounts per row, the size of its token set as one base-36 digit
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** rapidfuzz `utils.default_process` then whitespace split, deduplicated (as cpu-tdp-table.ts). */
export function tokenSet(s) {
  const processed = s.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim();
  return processed === '' ? [] : [...new Set(processed.split(/\s+/))];
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export function buildIndex(table) {
  const names = table.rows.map(([name]) => name);
  for (const name of names) if (name.includes('\n')) throw new Error(`row name with a newline: ${name}`);
  const order = names.map((_, i) => i).sort((a, b) => cmp(names[a].toLowerCase(), names[b].toLowerCase()) || a - b);
  const sets = names.map(tokenSet);
  const vocab = [...new Set(sets.flat())].sort(cmp);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const postings = vocab.map(() => []);
  sets.forEach((set, row) => set.forEach((t) => postings[ids.get(t)].push(row)));
  const b36 = (list) => list.map((n) => n.toString(36)).join(',');
  return {
    source: table.source,
    names: names.join('\n'),
    tdpW: table.rows.map(([, watts]) => watts),
    order: b36(order),
    vocab: vocab.join('\n'),
    postings: postings.map(b36).join(';'),
    tokenCounts: sets.map((set) => {
      if (set.length > 35) throw new Error(`more than 35 tokens: ${set.join(' ')}`);
      return set.length.toString(36);
    }).join(''),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = JSON.parse(readFileSync(join(here, 'cpu-tdp.json'), 'utf8'));
  const out = join(here, 'cpu-tdp.index.json');
  writeFileSync(out, `${JSON.stringify(buildIndex(table))}\n`);
}
