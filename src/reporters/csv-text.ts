import { readFileSync } from 'node:fs';
import { ioError } from './file-io.js';

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180 field: quoted when it holds a comma, a quote, CR or LF, with quotes doubled. */
export function formatCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV record terminated by LF. */
export function formatCsvLine(fields: readonly string[]): string {
  return `${fields.map(formatCsvField).join(',')}\n`;
}

/** A parsed record and where its text lies in the input, terminator included. */
export interface CsvRecordSpan {
  readonly fields: string[];
  readonly start: number;
  readonly end: number;
}

/**
 * Parses RFC 4180 text into records with their offsets. Accepts LF, CRLF and lone CR endings, a
 * leading UTF-8 BOM, quoted fields spanning lines; lenient on malformed input (an unterminated
 * quote runs to the end, a stray quote inside an unquoted field is kept). Blank lines are skipped.
 */
export function parseCsvRecords(text: string, maxRecords = Infinity): CsvRecordSpan[] {
  const out: CsvRecordSpan[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const len = text.length;
  while (i < len && out.length < maxRecords) {
    const start = i;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    while (i < len) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i += 1;
          }
        } else {
          field += ch;
          i += 1;
        }
        continue;
      }
      if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i += 1;
      } else if (ch === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i += 1;
      } else if (ch === '\n' || ch === '\r') {
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        break;
      } else {
        field += ch;
        atFieldStart = false;
        i += 1;
      }
    }
    fields.push(field);
    // A blank line parses as one empty unquoted field; `""` alone is a real (empty) record.
    const blank = fields.length === 1 && fields[0] === '' && text[start] !== '"';
    if (!blank) out.push({ fields, start, end: i });
  }
  return out;
}

/** Parses RFC 4180 text into rows of fields (header included). */
export function parseCsv(text: string): string[][] {
  return parseCsvRecords(text).map((r) => r.fields);
}

/**
 * Reads a CSV file into objects keyed by its header (first record). Missing trailing cells read
 * as `''`; cells are returned verbatim, so text written with the `'` formula guard keeps it.
 * Throws `WattprintError('REPORTER_IO')` naming the file when it cannot be read.
 */
export function readCsv(path: string): Record<string, string>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw ioError('read', path, err);
  }
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) return [];
  return rows.map((cells) => {
    const row: Record<string, string> = {};
    header.forEach((name, k) => {
      row[name] = cells[k] ?? '';
    });
    return row;
  });
}
