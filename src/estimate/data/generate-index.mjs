// Precomputes the CPU TDP lookup (src/estimate/cpu-tdp-table.ts) from cpu-tdp.json, so a process
// never tokenises 4903 rows, nor reads the whole table for one CPU: run by `npm run build`
// (test/build/finish-dist.mjs), which ships the result once as dist/data/cpu-tdp.index.json; the
// copy here serves the sources and tests. test/estimate/cpu-tdp-index.test.ts rebuilds it with the
// TypeScript tokeniser and compares every lookup with the row-by-row algorithm it replaced.
//
// Layout: one JSON object whose parts a lookup reads with positioned reads, a few KB in all:
//   {"at":"<10-digit byte offset of "index">","source":...,"keys":[...],"tokens":[...],"rows":[...],
//    "index":{"keys":[offsets],"tokens":[offsets],"rows":offset,"end":offset}}
// Each bucket is one JSON string of ";"-terminated lines of "|"-separated fields (characters no row
// name holds, and that JSON need not escape), the byte offset of its literal in
// "index" (a bucket ends where the next offset begins, less the comma; the last ends before "]").
//   keys    bucket hash(lower-case name) % KEY_BUCKETS: "name|tdpW" per row, in table order (rules
//           1 and 2: the first row whose lower-case name equals the key)
//   tokens  bucket hash(token) % TOKEN_BUCKETS: "token|postings", the row ids ascending, each
//           POSTING_WIDTH base-36 digits, unseparated
//   rows    one string, ROW_WIDTH base-36 digits per row: its keys bucket (2), its line there (1)
//           and the size of its token set (1)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export const KEY_BUCKETS = 256;
export const TOKEN_BUCKETS = 128;
export const ROW_WIDTH = 4;
export const POSTING_WIDTH = 3;

/** FNV-1a over UTF-16 code units (as cpu-tdp-table.ts). */
export function bucketOf(s, buckets) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

/** rapidfuzz `utils.default_process` then whitespace split, deduplicated (as cpu-tdp-table.ts). */
export function tokenSet(s) {
  const processed = s.replace(/[^\p{L}\p{N}]/gu, ' ').toLowerCase().trim();
  return processed === '' ? [] : [...new Set(processed.split(/\s+/))];
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function digits(n, width) {
  const d = n.toString(36);
  if (d.length > width) throw new Error(`${n} does not fit ${width} base-36 digits`);
  return d.padStart(width, '0');
}

/** The index file's text. */
export function buildIndex(table) {
  const rows = table.rows;
  for (const [name] of rows) if (/[;|]/.test(name)) throw new Error(`row name with a ";" or "|": ${name}`);
  const line = ([name, watts]) => `${name}|${watts};`;
  const keys = Array.from({ length: KEY_BUCKETS }, () => []);
  const sets = rows.map(([name]) => tokenSet(name));
  let rowInfo = '';
  rows.forEach((row, i) => {
    const b = bucketOf(row[0].toLowerCase(), KEY_BUCKETS);
    rowInfo += digits(b, 2) + digits(keys[b].length, 1) + digits(sets[i].length, 1);
    keys[b].push(line(row));
  });
  const postings = new Map();
  sets.forEach((set, row) => set.forEach((t) => (postings.has(t) ? postings.get(t).push(row) : postings.set(t, [row]))));
  const tokens = Array.from({ length: TOKEN_BUCKETS }, () => '');
  for (const t of [...postings.keys()].sort(cmp)) tokens[bucketOf(t, TOKEN_BUCKETS)] += `${t}|${postings.get(t).map((n) => digits(n, POSTING_WIDTH)).join('')};`;

  let text = `{"at":"0000000000","source":${JSON.stringify(table.source)}`;
  const bytes = () => Buffer.byteLength(text);
  const list = (name, buckets) => {
    text += `,"${name}":[`;
    const offsets = buckets.map((b, i) => {
      if (i > 0) text += ',';
      const at = bytes();
      text += JSON.stringify(b);
      return at;
    });
    text += ']';
    return offsets;
  };
  const index = { keys: list('keys', keys.map((b) => b.join(''))), tokens: list('tokens', tokens) };
  text += ',"rows":';
  index.rows = bytes();
  text += JSON.stringify(rowInfo);
  index.end = bytes();
  const at = bytes() + ',"index":'.length;
  text += `,"index":${JSON.stringify(index)}}\n`;
  return text.replace('"at":"0000000000"', `"at":"${String(at).padStart(10, '0')}"`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = JSON.parse(readFileSync(join(here, 'cpu-tdp.json'), 'utf8'));
  writeFileSync(join(here, 'cpu-tdp.index.json'), buildIndex(table));
}
