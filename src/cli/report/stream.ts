/**
 * Streaming readers for `wattprint report`: a file is read in chunks and parsed record by record,
 * so memory follows the rows kept, not the file's size, and text from the file is made safe to
 * print (no terminal escape sequences).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

// Below V8's large-object size, so the chunk strings die young instead of piling up until a full GC.
const CHUNK_BYTES = 64 * 1024;
/** A record (or line) longer than this is malformed input: stop instead of buffering the file. */
export const MAX_RECORD_CHARS = 16 << 20;

/** Calls `onText` with the file's UTF-8 text chunk by chunk (BOM removed). */
export function readChunks(path: string, onText: (text: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const decoder = new StringDecoder('utf8');
    let first = true;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n <= 0) break;
      let text = decoder.write(buf.subarray(0, n));
      if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
      if (text) onText(text);
    }
    const rest = decoder.end();
    if (rest) onText(rest);
  } finally {
    closeSync(fd);
  }
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * An incremental RFC 4180 parser with the leniency of `parseCsvRecords` (LF, CRLF or CR endings,
 * quoted fields spanning lines and chunks, text after a closing quote kept, blank lines skipped).
 * `onRecord` gets each record's fields; throws when one record exceeds {@link MAX_RECORD_CHARS}.
 */
export class CsvRecordStream {
  private rest = '';

  constructor(private readonly onRecord: (fields: string[]) => void) {}

  push(text: string): void {
    this.rest = this.drain(this.rest + text, false);
    if (this.rest.length > MAX_RECORD_CHARS) throw new Error(`a CSV record longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`);
  }

  end(): void {
    this.rest = this.drain(this.rest, true);
  }

  /** Parses whole records of `s`; returns the unparsed tail (an incomplete record). */
  private drain(s: string, final: boolean): string {
    const len = s.length;
    let pos = 0;
    records: while (pos < len) {
      const fields: string[] = [];
      let i = pos;
      for (;;) {
        let value: string;
        if (s.charCodeAt(i) === QUOTE) {
          value = '';
          let j = i + 1;
          for (;;) {
            const q = s.indexOf('"', j);
            if (q === -1) {
              if (!final) break records;
              value += s.slice(j);
              i = len;
              break;
            }
            if (q + 1 >= len && !final) break records;
            if (s.charCodeAt(q + 1) === QUOTE) {
              value += s.slice(j, q + 1);
              j = q + 2;
              continue;
            }
            value += s.slice(j, q);
            i = q + 1;
            break;
          }
          const k = fieldEnd(s, i);
          if (k > i) value += s.slice(i, k);
          i = k;
        } else {
          const k = fieldEnd(s, i);
          value = s.slice(i, k);
          i = k;
        }
        fields.push(value);
        if (i >= len) {
          if (!final) break records;
          this.emit(fields);
          pos = len;
          break;
        }
        const c = s.charCodeAt(i);
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === CR) {
          if (i + 1 >= len && !final) break records;
          i += s.charCodeAt(i + 1) === LF ? 2 : 1;
        } else i++;
        this.emit(fields);
        pos = i;
        break;
      }
    }
    return pos === 0 ? s : s.slice(pos);
  }

  private emit(fields: string[]): void {
    if (fields.length === 1 && fields[0] === '') return;
    this.onRecord(fields);
  }
}

function fieldEnd(s: string, from: number): number {
  let k = from;
  const len = s.length;
  while (k < len) {
    const c = s.charCodeAt(k);
    if (c === COMMA || c === LF || c === CR) break;
    k++;
  }
  return k;
}

/** Calls `onLine` with each line of the text pushed (LF or CRLF), the last one at `end()`. */
export class LineStream {
  private rest = '';
  private lineNo = 0;

  constructor(private readonly onLine: (line: string, lineNo: number) => void) {}

  push(text: string): void {
    const s = this.rest + text;
    let from = 0;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', from)) {
      this.onLine(s.slice(from, nl).replace(/\r$/, ''), ++this.lineNo);
      from = nl + 1;
    }
    this.rest = s.slice(from);
    if (this.rest.length > MAX_RECORD_CHARS) throw new Error(`a line longer than ${MAX_RECORD_CHARS} characters`);
  }

  end(): void {
    if (this.rest !== '') this.onLine(this.rest.replace(/\r$/, ''), ++this.lineNo);
    this.rest = '';
  }
}

/**
 * Text from a data file made safe for a terminal: C0 and C1 control characters (ESC, CSI, BEL,
 * line breaks) and bidirectional overrides are removed, so a crafted cell cannot move the cursor,
 * recolour or rewrite the screen, or reorder what is shown.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

/**
 * A copy of `s` that does not share memory with the chunk it was sliced from: V8 slices keep their
 * parent string alive, which would keep every chunk of the file in memory.
 */
export function detach(s: string): string {
  return (` ${s}`).slice(1);
}

/**
 * Memoises `clean` over repeated strings (project names, run ids, models): each distinct value is
 * cleaned once and kept as one detached copy, so many rows cost little.
 */
export function interner(clean: (raw: string) => string): (raw: string) => string {
  const seen = new Map<string, string>();
  return (raw) => {
    const hit = seen.get(raw);
    if (hit !== undefined) return hit;
    const own = detach(clean(raw));
    if (seen.size < 100_000) seen.set(detach(raw), own);
    return own;
  };
}
