import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from '../builtins.js';
import { WattprintError } from '../errors.js';
import type { WattprintWarning } from '../types.js';

const FIXES: Record<string, string> = {
  ENOENT: 'create the folder or point `outputDir` at an existing one',
  EACCES: 'make the file and its folder writable by this user, or choose another `outputDir`',
  EPERM: 'make the file and its folder writable by this user, or choose another `outputDir`',
  EROFS: 'the file system is read-only: choose another `outputDir`',
  ENOSPC: 'the disk is full: free space or choose another `outputDir`',
  EFBIG: 'the file size limit was reached: free space, raise the limit or choose another `outputDir`',
  EISDIR: 'the path is a folder: choose another `outputFile`',
  ELOOP: 'the path is a symlink, which wattprint does not follow: remove it or choose another `outputDir`',
};

/** `WattprintError('REPORTER_IO')` naming the operation, the file and the OS error. */
export function ioError(op: string, path: string, err: unknown): WattprintError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const msg = err instanceof Error ? err.message : String(err);
  const fix = code !== undefined ? FIXES[code] : undefined;
  return new WattprintError('REPORTER_IO', `Cannot ${op} ${path}: ${msg}${fix ? ` (${fix})` : ''}`, { cause: err });
}

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/**
 * The output file's status, undefined when absent. Anything but a regular file (a planted symlink,
 * a fifo) is an error: wattprint never writes through a path it did not create.
 */
export function outputStat(path: string): Stats | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('inspect', path, err);
  }
  if (!st.isFile()) {
    throw new WattprintError(
      'REPORTER_IO',
      `Refusing to write ${path}: it is ${st.isSymbolicLink() ? 'a symlink' : 'not a regular file'}, which wattprint never follows or writes through. Remove it or choose another \`outputDir\`.`,
    );
  }
  return st;
}

function openNoFollow(op: string, path: string, flags: number, mode?: number): number {
  try {
    return openSync(path, flags | O_NOFOLLOW, mode);
  } catch (err) {
    throw ioError(op, path, err);
  }
}

/** A sibling temp name that no other process or call can pick. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error('short write (no progress)'), { code: 'EIO' });
    off += n;
  }
}

/**
 * Writes `content` to a temp file in the same folder and renames it over `path`: readers see old
 * or new, never half. A file being replaced keeps its mode and (where permitted) its owner.
 */
export function atomicWriteFile(path: string, content: string): void {
  const old = outputStat(path);
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, old ? old.mode & 0o7777 : 0o666);
    if (old) {
      fchmodSync(fd, old.mode & 0o7777);
      const st = fstatSync(fd);
      if (st.uid !== old.uid || st.gid !== old.gid) {
        try {
          fchownSync(fd, old.uid, old.gid);
        } catch {
          // Only root may give a file away; the mode above still keeps it as private as it was.
        }
      }
    }
    writeAll(fd, Buffer.from(content, 'utf8'));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created or is already renamed
    }
    throw ioError('write', path, err);
  }
}

/**
 * CodeCarbon's backup naming (`codecarbon/core/util.py::backup`): `<name>.bak`, else the first free
 * `<name>_0.bak`, `<name>_1.bak`, ... Returns the backup path. Uses link+unlink so an existing
 * backup is never overwritten, with rename as the fallback where hard links are not supported.
 */
export function backupFile(path: string): string {
  for (let idx = -1; ; idx++) {
    const target = idx < 0 ? `${path}.bak` : `${path}_${idx}.bak`;
    try {
      if (outputStat(target) !== undefined) continue;
    } catch (err) {
      throw ioError(`back up to ${target}`, path, err);
    }
    try {
      linkSync(path, target);
      unlinkSync(path);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'EMLINK') {
        try {
          renameSync(path, target);
          return target;
        } catch (err2) {
          throw ioError(`back up to ${target}`, path, err2);
        }
      }
      throw ioError(`back up to ${target}`, path, err);
    }
  }
}

/** Quote parity of files this process has scanned, keyed by path, valid while inode, size and mtime match. */
const parityCache = new Map<string, { key: string; odd: boolean }>();
const statKey = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

function countQuotes(buf: Buffer, end = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(0x22); i !== -1 && i < end; i = buf.indexOf(0x22, i + 1)) n++;
  return n;
}

/** Whether the file, read as RFC 4180 CSV, ends inside a quoted field (an odd number of quotes). */
function endsInsideQuotes(path: string, fd: number, st: Stats): boolean {
  const cached = parityCache.get(path);
  if (cached?.key === statKey(st)) return cached.odd;
  const buf = Buffer.alloc(Math.min(1 << 20, Math.max(1, st.size)));
  let quotes = 0;
  for (let pos = 0; pos < st.size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, st.size - pos), pos);
    if (n <= 0) break;
    quotes += countQuotes(buf, n);
    pos += n;
  }
  const odd = quotes % 2 === 1;
  parityCache.set(path, { key: statKey(st), odd });
  return odd;
}

/** How an existing output file ends, to decide whether its last row is whole. */
export interface FileTail {
  readonly sizeBytes: number;
  /** The last byte is LF or CR (true for an empty file). */
  readonly endsWithNewline: boolean;
  /** Read as RFC 4180 CSV (`csv` true), the file ends inside a quoted field. */
  readonly insideQuotes: boolean;
  /** When it does not end with a line break: its last line (at most 64 KiB). */
  readonly lastLine: string;
}

const TAIL_BYTES = 64 * 1024;

/**
 * How an existing output file ends; undefined when it does not exist, an error when it is not a
 * regular file. Quote parity is computed once per file and then followed across our appends.
 */
export function fileState(path: string, csv = false): FileTail | undefined {
  if (outputStat(path) === undefined) return undefined;
  const fd = openNoFollow('open', path, O_RDONLY);
  try {
    const st = fstatSync(fd);
    if (st.size === 0) return { sizeBytes: 0, endsWithNewline: true, insideQuotes: false, lastLine: '' };
    const tailBytes = Math.min(TAIL_BYTES, st.size);
    const b = Buffer.alloc(tailBytes);
    readSync(fd, b, 0, tailBytes, st.size - tailBytes);
    const last = b[tailBytes - 1];
    const endsWithNewline = last === 0x0a || last === 0x0d;
    const cut = Math.max(b.lastIndexOf(0x0a), b.lastIndexOf(0x0d));
    return {
      sizeBytes: st.size,
      endsWithNewline,
      insideQuotes: csv && endsInsideQuotes(path, fd, st),
      lastLine: endsWithNewline ? '' : b.subarray(cut + 1).toString('utf8'),
    };
  } catch (err) {
    throw err instanceof WattprintError ? err : ioError('read', path, err);
  } finally {
    closeSync(fd);
  }
}

/** The first `maxBytes` of a file as UTF-8 (enough to hold a header line). */
export function readHead(path: string, maxBytes = 8 * 1024): string {
  const fd = openNoFollow('read', path, O_RDONLY);
  try {
    const b = Buffer.alloc(maxBytes);
    const n = readSync(fd, b, 0, maxBytes, 0);
    return b.subarray(0, n).toString('utf8');
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    closeSync(fd);
  }
}

/** The whole file as UTF-8, without following a symlink. */
export function readText(path: string): string {
  const fd = openNoFollow('read', path, O_RDONLY);
  try {
    const size = fstatSync(fd).size;
    const b = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, b, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return b.subarray(0, off).toString('utf8');
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` to an existing file (O_APPEND, never through a symlink) so that it lands whole or
 * not at all: on a failed or short write (ENOSPC, EFBIG) the file is truncated back to its previous
 * length before the error is thrown.
 */
export function appendWhole(path: string, text: string): void {
  const fd = openNoFollow('append to', path, O_WRONLY | O_APPEND);
  let before = -1;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    before = st.size;
    const buf = Buffer.from(text, 'utf8');
    writeAll(fd, buf);
    const cached = parityCache.get(path);
    if (cached?.key === statKey(st)) parityCache.set(path, { key: statKey(fstatSync(fd)), odd: cached.odd !== (countQuotes(buf) % 2 === 1) });
  } catch (err) {
    if (before >= 0) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // nothing more can be done; the error below names the file
      }
    }
    throw ioError('append to', path, err);
  } finally {
    closeSync(fd);
  }
}

/** The warning for a file moved aside because its last row was torn. */
export function tornWarning(path: string, backup: string): WattprintWarning {
  return {
    code: 'FILE_TORN',
    message: `${path} ended in a torn row (another writer crashed or the disk filled up): moved it to ${backup} and started a new file, so later rows stay readable.`,
    option: 'outputFile',
  };
}
