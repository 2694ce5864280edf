/**
 * Parsers of the procfs files the sampler reads, working on the bytes of a read (`buf[0, len)`)
 * without building strings or arrays: each writes into an object the caller owns and reuses.
 */

const SPACE = 0x20;
const TAB = 0x09;
const NL = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;

/** Index just past the last token parsed by {@link nextInt}. */
let cursor = 0;
/** Whether the last {@link nextInt} found no token at all (end of the line or of the bytes). */
let ended = false;

const isBlank = (b: number) => b === SPACE || b === TAB;

/**
 * The integer token at or after `from` on the current line (blanks skipped), in [0, end); the
 * cursor moves past it. NaN when the line or the bytes end first, or the token is not an integer.
 */
function nextInt(buf: Buffer, from: number, end: number, stopAtNewline = true): number {
  let i = from;
  while (i < end && (isBlank(buf[i]!) || (!stopAtNewline && buf[i] === NL))) i++;
  ended = i >= end || buf[i] === NL;
  if (ended) {
    cursor = i;
    return NaN;
  }
  const negative = buf[i] === MINUS;
  if (negative) i++;
  let n = 0;
  let digits = 0;
  let bad = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === SPACE || b === TAB || b === NL) break;
    const d = b - ZERO;
    if (d < 0 || d > 9) bad = true;
    else n = n * 10 + d;
    digits++;
  }
  cursor = i;
  return bad || digits === 0 ? NaN : negative ? -n : n;
}

/** Start of the line beginning with `key` (which ends with its separator), or -1. */
function findLine(buf: Buffer, len: number, key: Buffer): number {
  let first = len >= key.length - 1;
  for (let i = 1; first && i < key.length; i++) first = buf[i - 1] === key[i];
  if (first) return 0;
  const at = buf.indexOf(key);
  return at >= 0 && at + key.length <= len ? at + 1 : -1;
}

const key = (text: string) => Buffer.from(`\n${text}`, 'latin1');

/** User, nice, system, idle, iowait, irq, softirq and steal ticks of the `cpu` line of /proc/stat. */
export interface CpuTicks {
  busyTicks: number;
  totalTicks: number;
}

const CPU_KEY = key('cpu ');

/**
 * The `cpu` line of /proc/stat: the sum of its first 8 columns (guest and guest_nice are already in
 * user and nice) and that sum minus idle and iowait. False when the line is missing or malformed
 * (fewer than 4 columns, a column that is not an integer).
 */
export function parseCpuTicks(buf: Buffer, len: number, out: CpuTicks): boolean {
  const start = findLine(buf, len, CPU_KEY);
  if (start < 0) return false;
  let total = 0;
  let idle = 0;
  let at = start + CPU_KEY.length - 1;
  let columns = 0;
  for (; columns < 8; columns++) {
    const v = nextInt(buf, at, len);
    if (Number.isNaN(v)) {
      if (!ended) return false; // a token, but not an integer
      break;
    }
    at = cursor;
    total += v;
    if (columns === 3 || columns === 4) idle += v;
  }
  if (columns < 4) return false;
  out.totalTicks = total;
  out.busyTicks = total - idle;
  return true;
}

/** Fields of /proc/meminfo in bytes, NaN where the line is absent. */
export interface MemFields {
  memTotal: number;
  memFree: number;
  memAvailable: number;
  buffers: number;
  cached: number;
  sReclaimable: number;
}

const MEM_KEYS = {
  memTotal: key('MemTotal:'),
  memFree: key('MemFree:'),
  memAvailable: key('MemAvailable:'),
  buffers: key('Buffers:'),
  cached: key('Cached:'),
  sReclaimable: key('SReclaimable:'),
} as const;
const K = 0x6b;
const B = 0x42;

/** The value of a `Key:   123 kB` line in bytes (kB = 1024 bytes), NaN when absent or not in kB. */
function kBLine(buf: Buffer, len: number, k: Buffer): number {
  const start = findLine(buf, len, k);
  if (start < 0) return NaN;
  const after = start + k.length - 1;
  if (after >= len || !isBlank(buf[after]!)) return NaN;
  const v = nextInt(buf, after, len);
  if (!(v >= 0)) return NaN;
  let i = cursor;
  while (i < len && isBlank(buf[i]!)) i++;
  return i + 1 < len && buf[i] === K && buf[i + 1] === B ? v * 1024 : NaN;
}

/** The meminfo lines the RAM figures need. */
export function parseMemFields(buf: Buffer, len: number, out: MemFields): void {
  for (const k in MEM_KEYS) out[k as keyof MemFields] = kBLine(buf, len, MEM_KEYS[k as keyof MemFields]);
}

const VMRSS_KEY = key('VmRSS:');

/**
 * `VmRSS` of /proc/<pid>/status in bytes; 0 when the line is missing (kernel threads and zombies
 * hold no user memory).
 */
export function parseVmRssBytes(buf: Buffer, len: number): number {
  const v = kBLine(buf, len, VMRSS_KEY);
  return Number.isNaN(v) ? 0 : v;
}

/** The fields of /proc/<pid>/stat that the tree needs; times in clock ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Resident pages. */
  rssPages: number;
}

const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/**
 * One /proc/<pid>/stat line. The command name (field 2) sits in parentheses and may itself contain
 * spaces and parentheses, so the fields are counted from the last `)`. False when malformed.
 */
export function parseStatBytes(buf: Buffer, len: number, out: ProcStat): boolean {
  if (len <= 0) return false;
  const open = buf.indexOf(OPEN_PAREN);
  const close = buf.lastIndexOf(CLOSE_PAREN, len - 1);
  if (open < 0 || open >= len || close < open) return false;
  out.pid = nextInt(buf, 0, open, false);
  if (cursor < open && !Number.isNaN(out.pid)) {
    // Anything but blanks between the pid and '(' makes it malformed.
    for (let i = cursor; i < open; i++) if (!isBlank(buf[i]!) && buf[i] !== NL) return false;
  }
  // After ')': state is field 3, so field n is at index n - 3.
  let at = close + 1;
  for (let f = 0; f <= 21; f++) {
    const v = nextInt(buf, at, len, false); // NaN for the fields not used (state is a letter)
    at = cursor;
    if (f === 1) out.ppid = v;
    else if (f === 11) out.utime = v;
    else if (f === 12) out.stime = v;
    else if (f === 13) out.cutime = v;
    else if (f === 14) out.cstime = v;
    else if (f === 21) out.rssPages = v;
  }
  // NaN (a missing or malformed field) propagates through the sum.
  return Number.isFinite(out.pid + out.ppid + out.utime + out.stime + out.cutime + out.cstime + out.rssPages);
}

/** Appends the pids of a /proc/<pid>/task/<tid>/children list ("12 34 ") to `out`. */
export function parsePidList(buf: Buffer, len: number, out: number[]): void {
  let at = 0;
  while (at < len) {
    const v = nextInt(buf, at, len, false);
    if (ended) break;
    at = cursor;
    if (v > 0) out.push(v);
  }
}
