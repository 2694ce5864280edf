import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * CodeCarbon's CPU TDP table, precomputed at build time (src/estimate/data/generate-index.mjs, see
 * there for the layout) into hash buckets that a lookup reads with positioned reads: a few KB per
 * lookup instead of the whole table, so the first start() stays fast and leaves no garbage that
 * outlives it. Importing wattprint or starting a tracker with a measured CPU source never opens it.
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

/** The "index" member of the file: byte offsets of each bucket's JSON string. */
interface IndexHead {
  keys: number[];
  tokens: number[];
  rows: number;
  end: number;
}

// The same constants and hash as generate-index.mjs.
const KEY_BUCKETS = 256;
const TOKEN_BUCKETS = 128;
const ROW_WIDTH = 4;
const POSTING_WIDTH = 3;

/** The base-36 digit at byte `b[i]` (lower-case, as Number.prototype.toString writes them). */
function digit36(b: Uint8Array, i: number): number {
  const c = b[i]!;
  return c <= 57 ? c - 48 : c - 87;
}

function bucketOf(s: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

// Beside this module in the sources, in dist/data/ once bundled (every chunk sits in dist/).
const INDEX_URL = new URL('./data/cpu-tdp.index.json', import.meta.url);

/** The open index of one lookup: reads parts of the file by byte offset. */
class IndexFile {
  private readonly fd: number;
  readonly head: IndexHead;
  constructor() {
    this.fd = openSync(INDEX_URL, 'r');
    try {
      const at = Number(this.text(7, 17));
      // The "index" object, then the file's closing "}\n".
      this.head = JSON.parse(this.text(at, fstatSync(this.fd).size - 2)) as IndexHead;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }
  /** Bytes `[from, to)` of the file, outside the JS heap. */
  bytes(from: number, to: number): Buffer {
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to)) throw new Error('cpu-tdp.index.json is damaged');
    const buf = Buffer.allocUnsafe(to - from);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(this.fd, buf, n, buf.length - n, from + n);
      if (got === 0) throw new Error('cpu-tdp.index.json is truncated');
      n += got;
    }
    return buf;
  }
  text(from: number, to: number): string {
    return this.bytes(from, to).toString('utf8');
  }
  /** The bytes of bucket `i` (a JSON string literal) of a list of bucket offsets whose list ends at `listEnd` (the byte of its "]"). */
  bucketBytes(offsets: readonly number[], i: number, listEnd: number): Buffer {
    return this.bytes(offsets[i]!, i + 1 < offsets.length ? offsets[i + 1]! - 1 : listEnd);
  }
  keyBucket(b: number): string[] {
    const literal = this.bucketBytes(this.head.keys, b, this.head.tokens[0]! - ',"tokens":['.length - 1);
    return (JSON.parse(literal.toString('utf8')) as string).split(';');
  }
  tokenBucket(b: number): Buffer {
    return this.bucketBytes(this.head.tokens, b, this.head.rows - ',"rows":'.length - 1);
  }
  close(): void {
    closeSync(this.fd);
  }
}

let unreadable = false;

// A bundle that left the data file behind (or a damaged one): every lookup misses and the TDP
// source falls back to its per-thread default rather than failing a tracker; the warning says why, once.
function markUnreadable(err: unknown): undefined {
  unreadable = true;
  process.emitWarning(
    `CPU TDP table unreadable (${(err as Error).message}); CPU estimates use 4 W per thread. ` +
      'When bundling, keep wattprint external or copy its dist/data/ next to the bundle.',
    { code: 'WATTPRINT_TDP_TABLE' },
  );
  return undefined;
}

const toMatch = (line: string, match: CpuTdpMatch['match']): CpuTdpMatch => {
  const tab = line.lastIndexOf('|');
  return { name: line.slice(0, tab), tdpW: Number(line.slice(tab + 1)), match };
};

/** The first row whose lower-case name is `key`. */
function rowByKey(f: IndexFile, key: string, match: CpuTdpMatch['match']): CpuTdpMatch | undefined {
  for (const line of f.keyBucket(bucketOf(key, KEY_BUCKETS))) {
    const tab = line.lastIndexOf('|');
    if (tab > 0 && line.slice(0, tab).toLowerCase() === key) return toMatch(line, match);
  }
  return undefined;
}

/** rapidfuzz `utils.default_process` then whitespace split, deduplicated. */
export function tokenSet(s: string): string[] {
  // For ASCII (every CPU name in practice) the same classes without compiling Unicode tables (~0.5 ms).
  const processed = (/^[\x00-\x7f]*$/.test(s) ? s.replace(/[^A-Za-z0-9]/g, ' ') : s.replace(/[^\p{L}\p{N}]/gu, ' ')).toLowerCase().trim();
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
 * The postings of `token` (row ids, POSTING_WIDTH base-36 digits each), found in the bytes of its
 * bucket, `"token|postings;…;"`: the token-set rule reads ~20 KB for a common vendor token, kept
 * out of the JS heap (as strings they were ~100 KB of garbage at the first sample).
 */
function postings(f: IndexFile, token: string): Buffer | undefined {
  const bucket = f.tokenBucket(bucketOf(token, TOKEN_BUCKETS));
  const key = Buffer.from(`${token}|`);
  for (let at = bucket.indexOf(key); at > 0; at = bucket.indexOf(key, at + 1)) {
    const before = bucket[at - 1];
    if (before !== 0x22 && before !== 0x3b) continue; // inside another token: a line starts after `"` or `;`
    const from = at + key.length;
    return bucket.subarray(from, bucket.indexOf(0x3b, from));
  }
  return undefined;
}

/**
 * Rule 3: the one row whose token set contains the query's or is contained in it. hits[row] counts
 * the query tokens the row holds: the row is within the query when that is its whole token set,
 * and the query within the row when it is every query token.
 */
function rowByTokenSet(f: IndexFile, query: readonly string[]): CpuTdpMatch | undefined {
  const h = f.head;
  const lists: Buffer[] = [];
  for (const token of query) {
    const list = postings(f, token);
    if (list !== undefined) lists.push(list);
  }
  if (lists.length === 0) return undefined;
  const allKnown = lists.length === query.length;
  // Per row: keys bucket (2 digits), line there (1), token-set size (1); after the string's quote.
  const rows = f.bytes(h.rows + 1, h.end - 1);
  const hits = new Uint8Array(rows.length / ROW_WIDTH);
  const candidates = new Int32Array(hits.length);
  let candidateCount = 0;
  for (const list of lists) {
    for (let i = 0; i < list.length; i += POSTING_WIDTH) {
      const row = digit36(list, i) * 1296 + digit36(list, i + 1) * 36 + digit36(list, i + 2);
      if (hits[row]++ === 0) candidates[candidateCount++] = row;
    }
  }
  let found: number | undefined;
  for (let c = 0; c < candidateCount; c++) {
    const row = candidates[c]!;
    const n = hits[row]!;
    if (n === digit36(rows, row * ROW_WIDTH + 3) || (allKnown && n === query.length)) {
      if (found !== undefined) return undefined;
      found = row;
    }
  }
  if (found === undefined) return undefined;
  const at = found * ROW_WIDTH;
  return toMatch(f.keyBucket(digit36(rows, at) * 36 + digit36(rows, at + 1))[digit36(rows, at + 2)]!, 'token-set');
}

/**
 * Finds a CPU model in CodeCarbon's TDP table (4903 models), with CodeCarbon 3.x's rules:
 * 1. case-insensitive equality;
 * 2. equality after normalising (remove "(R)", cut at " CPU @ ", remove " CPU", remove " @ 2.50GHz");
 * 3. token-set match of the normalised name (rapidfuzz `token_set_ratio` = 100 with `default_process`:
 *    lower-case, punctuation to spaces; one token set contains the other), accepted only when exactly
 *    one row matches.
 *
 * Each new name reads a few KB of the index (dist/data/cpu-tdp.index.json), never at import.
 *
 * @example
 * lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz')
 * // { name: 'Intel Xeon Gold 6248', tdpW: 150, match: 'normalized' }
 * @returns the matched row, or undefined when no rule finds exactly one row.
 */
export function lookupCpuTdp(name: string): CpuTdpMatch | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  if (answers.has(name)) {
    const a = answers.get(name);
    return a && { ...a };
  }
  const found = lookup(name);
  if (answers.size >= MAX_ANSWERS) answers.clear();
  answers.set(name, found && { ...found });
  return found;
}

/** Answers by model name: every tracker of a process asks for the same CPU. */
const answers = new Map<string, CpuTdpMatch | undefined>();
const MAX_ANSWERS = 64;

function lookup(name: string): CpuTdpMatch | undefined {
  if (unreadable) return undefined;
  let f: IndexFile | undefined;
  try {
    f = new IndexFile();
    const exact = rowByKey(f, name.toLowerCase(), 'exact');
    if (exact) return exact;
    const normalised = normalise(name);
    const norm = rowByKey(f, normalised.toLowerCase(), 'normalized');
    if (norm) return norm;
    const query = tokenSet(normalised);
    return query.length === 0 ? undefined : rowByTokenSet(f, query);
  } catch (err) {
    return markUnreadable(err);
  } finally {
    f?.close();
  }
}
