import { readFileSync } from 'node:fs';
import { KEEP_DIST_FIX, WattprintError } from '../errors.js';

/**
 * One of the package's own offline tables, parsed on its first use and kept. All but the small
 * per-source table (energy mix, GCP, cloud regions, time zones, US states, Canadian provinces,
 * Nordic zones: ~63 KB) are read this way so `import 'wattprint'` neither compiles nor holds them,
 * and a run reads only the ones its location needs. The build copies them to dist/data/
 * (test/build/finish-dist.mjs), beside the chunk this code lands in.
 */
export function lazyTable<T>(file: string): () => T {
  let table: T | undefined;
  return () => (table ??= readTable<T>(file));
}

/** One of those tables, read and parsed now. */
export function readTable<T>(file: string): T {
  return JSON.parse(readTableBytes(file).toString('utf8')) as T;
}

/**
 * One of those tables as bytes, outside the JS heap, for a caller that parses only the part it needs.
 * A bundle that left dist/data/ behind gets `MISSING_DATA`, naming the file and the fix.
 */
export function readTableBytes(file: string): Buffer {
  try {
    return readFileSync(new URL(`./data/${file}`, import.meta.url));
  } catch (err) {
    throw new WattprintError(
      'MISSING_DATA',
      `wattprint could not read its offline data file data/${file} beside its other files (${(err as Error).message}). ${KEEP_DIST_FIX}`,
      { cause: err },
    );
  }
}
