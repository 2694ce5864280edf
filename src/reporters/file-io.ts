import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WattprintError } from '../errors.js';

const FIXES: Record<string, string> = {
  ENOENT: 'create the folder or point `outputDir` at an existing one',
  EACCES: 'make the file and its folder writable by this user, or choose another `outputDir`',
  EPERM: 'make the file and its folder writable by this user, or choose another `outputDir`',
  EROFS: 'the file system is read-only: choose another `outputDir`',
  ENOSPC: 'the disk is full: free space or choose another `outputDir`',
  EISDIR: 'the path is a folder: choose another `outputFile`',
};

/** `WattprintError('REPORTER_IO')` naming the operation, the file and the OS error. */
export function ioError(op: string, path: string, err: unknown): WattprintError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const msg = err instanceof Error ? err.message : String(err);
  const fix = code !== undefined ? FIXES[code] : undefined;
  return new WattprintError('REPORTER_IO', `Cannot ${op} ${path}: ${msg}${fix ? ` (${fix})` : ''}`, { cause: err });
}

/** A sibling temp name that no other process or call can pick. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `content` to a temp file in the same folder and renames it over `path`: readers see old or new, never half. */
export function atomicWriteFile(path: string, content: string): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
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
    if (existsSync(target)) continue;
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

/** Size of a file and whether its last byte is a line break; undefined when it does not exist. */
export function fileState(path: string): { sizeBytes: number; endsWithNewline: boolean } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('open', path, err);
  }
  try {
    const sizeBytes = fstatSync(fd).size;
    if (sizeBytes === 0) return { sizeBytes, endsWithNewline: true };
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, sizeBytes - 1);
    return { sizeBytes, endsWithNewline: b[0] === 0x0a || b[0] === 0x0d };
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    closeSync(fd);
  }
}

/** The first `maxBytes` of a file as UTF-8 (enough to hold a header line). */
export function readHead(path: string, maxBytes = 8 * 1024): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(maxBytes);
    const n = readSync(fd, b, 0, maxBytes, 0);
    return b.subarray(0, n).toString('utf8');
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Appends `text` with one write call (O_APPEND), so concurrent appenders and a process killed
 * mid-report never leave part of a row. Prefixes a line break when the file does not end with one.
 */
export function appendWhole(path: string, text: string, endsWithNewline: boolean): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a');
    const buf = Buffer.from(endsWithNewline ? text : `\n${text}`, 'utf8');
    let off = 0;
    // A regular-file write of a few KB completes in one call; the loop only guards partial writes.
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    throw ioError('append to', path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
