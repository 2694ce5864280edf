import { readFileSync } from 'node:fs';

/**
 * CodeCarbon's CPU TDP table, precomputed at build time (src/estimate/data/generate-index.mjs) into
 * the compact index `data/cpu-tdp.index.json`, read on the first lookup only: importing wattprint
 * or starting a tracker with a measured CPU source never touches it.
 */

/** A row of CodeCarbon's CPU table that a model name matched. */
export interface CpuTdpMatch {
  /** The table row's name, e.g. `'Intel Xeon Gold 6248'`. */
  name: string;
  /** The row's TDP in watts (per chip). */
  tdpW: number;
  /** Which rule matched: case-insensitive equality, equality after normalising, or a unique token-set match. */
  match: 'exact' | 'normalized' | 'token-set';
}

/** The index file as generate-index.mjs writes it (see there for the layout). */
interface IndexFile {
  names: string;
  tdpW: number[];
  order: string;
  vocab: string;
  postings: string;
  tokenCounts: string;
}

interface Table {
  names: string[];
  tdpW: number[];
  /** Row ids (base 36) sorted by lower-case name; parsed one entry at a time by the binary search. */
  order: string[];
  vocab: string[];
  postings: string[];
  /** One base-36 digit per row: the size of its token set. */
  tokenCounts: string;
}

let table: Table | null | undefined;

// Beside this module in the sources, in dist/data/ once bundled (every chunk sits in dist/).
const INDEX_URL = new URL('./data/cpu-tdp.index.json', import.meta.url);

function load(): Table | null {
  if (table !== undefined) return table;
  try {
    const raw = JSON.parse(readFileSync(INDEX_URL, 'utf8')) as IndexFile;
    table = {
      names: raw.names.split('\n'),
      tdpW: raw.tdpW,
      order: raw.order.split(','),
      vocab: raw.vocab.split('\n'),
      postings: raw.postings.split(';'),
      tokenCounts: raw.tokenCounts,
    };
  } catch (err) {
    // A bundle that left the data file behind: every lookup misses and the TDP source falls back
    // to its per-thread default rather than failing a tracker; the warning says why, once.
    table = null;
    process.emitWarning(
      `CPU TDP table unreadable (${(err as Error).message}); CPU estimates use 4 W per thread. ` +
        'When bundling, keep wattprint external or copy its dist/data/ next to the bundle.',
      { code: 'WATTPRINT_TDP_TABLE' },
    );
  }
  return table;
}

/** First index in sorted `keys` (of length n, read through `at`) whose key is >= `key`. */
function lowerBound(n: number, at: (i: number) => string, key: string): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first row whose lower-case name is `key`. */
function rowByKey(t: Table, key: string): number | undefined {
  const nameAt = (i: number) => t.names[parseInt(t.order[i]!, 36)]!.toLowerCase();
  const i = lowerBound(t.order.length, nameAt, key);
  return i < t.order.length && nameAt(i) === key ? parseInt(t.order[i]!, 36) : undefined;
}

function tokenId(t: Table, token: string): number | undefined {
  const i = lowerBound(t.vocab.length, (k) => t.vocab[k]!, token);
  return t.vocab[i] === token ? i : undefined;
}

/** rapidfuzz `utils.default_process` then whitespace split, deduplicated. */
export function tokenSet(s: string): string[] {
  const processed = s.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim();
  return processed === '' ? [] : [...new Set(processed.split(/\s+/))];
}

/** CodeCarbon's second pass: drop "(R)", cut at " CPU @ ", drop " CPU" and a trailing clock. */
function normalise(model: string): string {
  let m = model.replaceAll('(R)', '');
  const at = m.indexOf(' CPU @ ');
  if (at > 0) m = m.slice(0, at);
  return m.replaceAll(' CPU', '').replace(/ @\s*\d+\.\d+GHz/g, '');
}

/**
 * Rule 3: the one row whose token set contains the query's or is contained in it. hits[row] counts
 * the query tokens the row holds: the row is within the query when that is its whole token set,
 * and the query within the row when it is every query token.
 */
function rowByTokenSet(t: Table, query: readonly string[]): number | undefined {
  const lists: string[] = [];
  for (const token of query) {
    const id = tokenId(t, token);
    if (id !== undefined) lists.push(t.postings[id]!);
  }
  const allKnown = lists.length === query.length;
  const hits = new Uint8Array(t.names.length);
  const candidates: number[] = [];
  for (const list of lists) {
    for (const id of list.split(',')) {
      const row = parseInt(id, 36);
      if (hits[row]++ === 0) candidates.push(row);
    }
  }
  let found: number | undefined;
  for (const row of candidates) {
    const n = hits[row]!;
    if (n === parseInt(t.tokenCounts[row]!, 36) || (allKnown && n === query.length)) {
      if (found !== undefined) return undefined;
      found = row;
    }
  }
  return found;
}

/**
 * Finds a CPU model in CodeCarbon's TDP table (4903 models), with CodeCarbon 3.x's rules:
 * 1. case-insensitive equality;
 * 2. equality after normalising (remove "(R)", cut at " CPU @ ", remove " CPU", remove " @ 2.50GHz");
 * 3. token-set match of the normalised name (rapidfuzz `token_set_ratio` = 100 with `default_process`:
 *    lower-case, punctuation to spaces; one token set contains the other), accepted only when exactly
 *    one row matches.
 *
 * The table is read on the first call (about 0.3 MB, a few milliseconds), never at import.
 *
 * @example
 * lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz')
 * // { name: 'Intel Xeon Gold 6248', tdpW: 150, match: 'normalized' }
 * @returns the matched row, or undefined when no rule finds exactly one row.
 */
export function lookupCpuTdp(name: string): CpuTdpMatch | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const t = load();
  if (!t) return undefined;
  const row = (i: number, match: CpuTdpMatch['match']): CpuTdpMatch => ({ name: t.names[i]!, tdpW: t.tdpW[i]!, match });
  const exact = rowByKey(t, name.toLowerCase());
  if (exact !== undefined) return row(exact, 'exact');
  const normalised = normalise(name);
  const norm = rowByKey(t, normalised.toLowerCase());
  if (norm !== undefined) return row(norm, 'normalized');
  const query = tokenSet(normalised);
  if (query.length === 0) return undefined;
  const found = rowByTokenSet(t, query);
  return found === undefined ? undefined : row(found, 'token-set');
}
