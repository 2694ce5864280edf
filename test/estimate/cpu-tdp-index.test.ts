// The precomputed TDP index (src/estimate/data/cpu-tdp.index.json, built by generate-index.mjs, read
// in parts by byte offset):
// fresh, tokenised as the TypeScript does, and giving exactly the lookups of the row-by-row
// algorithm it replaced (kept below as the reference) for every row name and its variants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookupCpuTdp, tokenSet } from '../../src/estimate/cpu-tdp-table.js';
import table from '../../src/estimate/data/cpu-tdp.json' with { type: 'json' };
// @ts-expect-error: a plain .mjs build script without types
import { buildIndex, tokenSet as generatorTokenSet } from '../../src/estimate/data/generate-index.mjs';

const rows = table.rows as [string, number][];
const dataDir = join(__dirname, '..', '..', 'src', 'estimate', 'data');

/** The lookup as it was before the index: every row tokenised at run time. */
function referenceLookup(name: string) {
  const byLower = new Map<string, number>();
  const postings = new Map<string, number[]>();
  const tokens = rows.map(([n], i) => {
    if (!byLower.has(n.toLowerCase())) byLower.set(n.toLowerCase(), i);
    const set = tokenSet(n);
    for (const t of set) postings.set(t, [...(postings.get(t) ?? []), i]);
    return set;
  });
  return (query: string) => {
    if (query.trim() === '') return undefined;
    const row = (i: number, match: string) => ({ name: rows[i]![0], tdpW: rows[i]![1], match });
    const exact = byLower.get(query.toLowerCase());
    if (exact !== undefined) return row(exact, 'exact');
    let m = query.replaceAll('(R)', '');
    const at = m.indexOf(' CPU @ ');
    if (at > 0) m = m.slice(0, at);
    m = m.replaceAll(' CPU', '').replace(/ @\s*\d+\.\d+GHz/g, '');
    const norm = byLower.get(m.toLowerCase());
    if (norm !== undefined) return row(norm, 'normalized');
    const q = tokenSet(m);
    if (q.length === 0) return undefined;
    const candidates = new Set<number>();
    for (const t of q) for (const i of postings.get(t) ?? []) candidates.add(i);
    let found: number | undefined;
    for (const i of candidates) {
      const r = tokens[i]!;
      if (r.every((t) => q.includes(t)) || q.every((t) => r.includes(t))) {
        if (found !== undefined) return undefined;
        found = i;
      }
    }
    return found === undefined ? undefined : row(found, 'token-set');
  };
}

describe('CPU TDP index', () => {
  it('is what generate-index.mjs builds from cpu-tdp.json today (run `npm run build` after changing the table)', () => {
    const shipped = readFileSync(join(dataDir, 'cpu-tdp.index.json'), 'utf8');
    expect(shipped).toEqual(buildIndex(table));
    const parsed = JSON.parse(shipped);
    expect(parsed.keys.join('').split(';').filter(Boolean)).toHaveLength(4903);
    expect(parsed.rows).toHaveLength(4903 * 4);
  });

  it('tokenises every row as the TypeScript lookup does', () => {
    for (const [name] of rows) expect(generatorTokenSet(name)).toEqual(tokenSet(name));
  });

  it('answers exactly as the row-by-row algorithm, for every row and variants of many', { timeout: 120_000 }, () => {
    const reference = referenceLookup('');
    const queries = new Set<string>(['AMD EPYC', 'Intel Xeon', 'Quantum Foo 9000', '   ', '(R)', 'Intel(R) Xeon(R) CPU @ 2.50GHz']);
    rows.forEach(([name], i) => {
      queries.add(name);
      // Variants of every 8th row: each one walks the postings of common tokens ("intel", "core").
      if (i % 8 !== 0) return;
      queries.add(name.toUpperCase());
      queries.add(`${name.replace('Intel ', 'Intel(R) ')} CPU @ 2.20GHz`);
      queries.add(`${name} 64-Core Processor`);
      const words = name.split(' ');
      if (words.length > 2) queries.add(words.slice(1).join(' '));
      if (words.length > 1) queries.add(words.slice(0, -1).join(' '));
    });
    let tokenSetMatches = 0;
    for (const q of queries) {
      const want = reference(q);
      expect(lookupCpuTdp(q), q).toEqual(want);
      if (want?.match === 'token-set') tokenSetMatches++;
    }
    // The variants exercise all three rules, not only the exact one.
    expect(queries.size).toBeGreaterThan(7_000);
    expect(tokenSetMatches).toBeGreaterThan(300);
  });
});
