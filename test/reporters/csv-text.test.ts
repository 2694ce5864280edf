import { describe, it, expect } from 'vitest';
import { formatCsvField, formatCsvLine, parseCsv, parseCsvRecords } from '../../src/reporters/index.js';

describe('RFC 4180 formatting and parsing', () => {
  it('quotes only fields with a comma, quote, CR or LF, doubling quotes', () => {
    expect(formatCsvField('plain text')).toBe('plain text');
    expect(formatCsvField('a,b')).toBe('"a,b"');
    expect(formatCsvField('say "hi"')).toBe('"say ""hi"""');
    expect(formatCsvField('l1\nl2')).toBe('"l1\nl2"');
    expect(formatCsvField('cr\rx')).toBe('"cr\rx"');
    expect(formatCsvLine(['a', 'b,c', ''])).toBe('a,"b,c",\n');
  });

  it('round-trips tricky values', () => {
    const rows = [
      ['a,b', 'he said "no"', 'two\nlines', 'crlf\r\ninside', '', ' spaced ', '""', ','],
      ['x', 'é ü 中文 🌍', '"', 'a""b', "'=1", '-1.5', '\r', '\n'],
    ];
    const text = rows.map(formatCsvLine).join('');
    expect(parseCsv(text)).toEqual(rows);
  });

  it('parses CRLF, LF and lone CR endings, a BOM, and no final newline', () => {
    expect(parseCsv('\ufeffa,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,b\r1,2\r')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,"q\r\nq"\r\n')).toEqual([['a', 'q\r\nq']]);
  });

  it('skips blank lines but keeps a quoted empty record and trailing empty fields', () => {
    expect(parseCsv('a\n\n""\nb,\n')).toEqual([['a'], [''], ['b', '']]);
  });

  it('is lenient on malformed quotes', () => {
    expect(parseCsv('a"b,c\n')).toEqual([['a"b', 'c']]);
    expect(parseCsv('"open,end\nmore')).toEqual([['open,end\nmore']]);
  });

  it('reports record offsets that cover the record and its terminator', () => {
    const text = 'h1,h2\n"x\ny",2\r\nz,3';
    const recs = parseCsvRecords(text);
    expect(recs.map((r) => text.slice(r.start, r.end))).toEqual(['h1,h2\n', '"x\ny",2\r\n', 'z,3']);
    expect(parseCsvRecords(text, 1)).toHaveLength(1);
  });
});
