import { closeSync, constants, openSync, readSync } from 'node:fs';

/**
 * Open flags for files under the procfs root: a symlink in the last component (a path we built, not
 * one we were given) is refused rather than followed.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
const INITIAL_BYTES = 4096;

/**
 * One procfs file read whole into a reused buffer. With `keepOpen` the descriptor stays open between
 * reads and each read is one `pread` at offset 0 (procfs regenerates the file at offset 0; a regular
 * file in a fixture tree reads the same way). A read that fills the buffer may have been cut short:
 * the buffer doubles and the file is read again from the start, so `buf` always holds one whole,
 * consistent read. Nothing here throws or allocates in the steady state.
 */
export class ProcFile {
  buf: Buffer;
  /** Bytes of the last successful read in `buf`. */
  length = 0;
  private fd = -1;

  constructor(
    readonly path: string,
    private readonly keepOpen = true,
    initialBytes = INITIAL_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /**
   * Reads the whole file into `buf`: the number of bytes, or -1 when it cannot be opened or read
   * (missing, permission denied, the process behind it exited). A kept descriptor that fails (its
   * process exited: procfs answers ESRCH) is closed and the path opened again once, since a new
   * process may hold that pid now.
   */
  read(): number {
    const wasOpen = this.fd >= 0;
    const n = this.readOnce();
    return n < 0 && wasOpen ? this.readOnce() : n;
  }

  private readOnce(): number {
    if (this.fd < 0) {
      try {
        this.fd = openSync(this.path, OPEN_FLAGS);
      } catch {
        return (this.length = -1);
      }
    }
    try {
      let n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      while (n === this.buf.length) {
        this.buf = Buffer.allocUnsafe(this.buf.length * 2);
        n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      }
      this.length = n;
    } catch {
      this.length = -1;
      this.close();
      return -1;
    }
    if (!this.keepOpen) this.close();
    return this.length;
  }

  /** Closes the descriptor, if open; a later read reopens the path. */
  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed: nothing is held.
    }
    this.fd = -1;
  }
}
