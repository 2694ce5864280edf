/**
 * The only module that loads wattprint's native addon. It never throws: a missing or broken
 * addon gives a {@link NativeLoadResult} with each candidate's error and the fix, and the sources
 * that need it report themselves unavailable (the tracker then uses estimates).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireHere } from '../require-here.js';
import type { NativeBinding, NativeLoadResult } from './binding.js';

export type { NativeBinding, NativeLoadResult, NvmlBinding, NvmlError, NvmlProcessSample } from './binding.js';

/** Options of {@link loadNative}. */
export interface LoadNativeOptions {
  /** Do not load the addon (the `native: false` option). Default false. */
  readonly disabled?: boolean;
  /** Load this `.node` file instead of searching the package. */
  readonly path?: string;
  /** Environment read for `WATTPRINT_NATIVE=0`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const cache = new Map<string, NativeLoadResult>();

/** The `fix` of a failed load. */
export const NATIVE_FIX =
  'Without the native addon wattprint cannot read NVML, so GPU energy is not measured (RAPL still works through node:fs). ' +
  'Prebuilt binaries ship for linux-x64 and linux-arm64 (glibc 2.17 or newer); elsewhere (musl), install a C++ compiler, make and python3, then run ' +
  '`npm rebuild wattprint` (offline, point npm_config_nodedir at the Node headers, e.g. /usr). ' +
  'Set WATTPRINT_NATIVE=0 or `native: false` to stop trying.';

/**
 * Loads the addon once and caches the result: an explicit `path`, else (via node-gyp-build)
 * `native/build/Release` of the package, then `native/prebuilds/<platform>-<arch>/`. Never throws.
 *
 * @example
 * const native = loadNative();
 * if (!native.binding) console.log(native.errors, native.fix);
 */
export function loadNative(opts: LoadNativeOptions = {}): NativeLoadResult {
  const env = opts.env ?? process.env;
  const flag = env.WATTPRINT_NATIVE?.trim().toLowerCase();
  if (opts.disabled === true || flag === '0' || flag === 'false' || flag === 'off') {
    const by = opts.disabled === true ? '`native: false`' : `WATTPRINT_NATIVE=${env.WATTPRINT_NATIVE}`;
    return { errors: [], disabled: true, fix: `The native addon is disabled by ${by}; remove it to measure NVML/RAPL.` };
  }
  if (process.platform !== 'linux') {
    return { errors: [], fix: `The native addon is Linux-only (NVML, powercap, MSR); on ${process.platform} wattprint uses estimates.` };
  }
  const key = opts.path === undefined ? '' : resolve(opts.path);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let result: NativeLoadResult;
  if (opts.path !== undefined) {
    result = loadCandidates([key]);
  } else {
    const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
    result =
      root === undefined
        ? {
            errors: [
              { candidate: fileURLToPath(import.meta.url), error: "no package.json named 'wattprint' above this file (bundled?)" },
            ],
            fix: `${NATIVE_FIX} When wattprint is bundled, keep it external or pass the .node path explicitly.`,
          }
        : loadNativeFromDir(join(root, 'native'));
  }
  cache.set(key, result);
  return result;
}

/**
 * The addon as the tracker holds it: loaded (by `load`) at the first read of any field, so that a
 * process whose probes find no hardware for it never loads it (~4 ms and a dlopen).
 */
class DeferredNative implements NativeLoadResult {
  private result?: NativeLoadResult;
  constructor(private readonly load: () => NativeLoadResult) {}
  get loaded(): boolean {
    return this.result !== undefined;
  }
  private get r(): NativeLoadResult {
    return (this.result ??= this.load());
  }
  get binding() {
    return this.r.binding;
  }
  get path() {
    return this.r.path;
  }
  get errors() {
    return this.r.errors;
  }
  get fix() {
    return this.r.fix;
  }
  get disabled() {
    return this.r.disabled;
  }
}

/** A {@link NativeLoadResult} that calls `load` on the first read of any of its fields. */
export function deferNative(load: () => NativeLoadResult): NativeLoadResult {
  return new DeferredNative(load);
}

/**
 * Whether `native` is a {@link deferNative} result not loaded yet: a probe may then answer "no
 * hardware" from cheap checks without loading the addon. A binding given by the host or a test is
 * always used.
 */
export function nativeNotLoaded(native: NativeLoadResult): boolean {
  return native instanceof DeferredNative && !native.loaded;
}

/**
 * Loads the addon from a `native/` folder (uncached): node-gyp-build's choice first (local build,
 * then prebuild), then every other prebuild for this platform. Exported for tests.
 */
export function loadNativeFromDir(nativeDir: string): NativeLoadResult {
  const errors: { candidate: string; error: string }[] = [];
  const tried: string[] = [];
  try {
    const nodeGypBuild = requireHere('node-gyp-build') as { resolve(dir: string): string };
    tried.push(nodeGypBuild.resolve(nativeDir));
  } catch (err) {
    errors.push({ candidate: nativeDir, error: firstLines(err) });
  }
  const prebuildDir = join(nativeDir, 'prebuilds', `${process.platform}-${process.arch}`);
  for (const file of listNodeFiles(prebuildDir)) {
    const path = join(prebuildDir, file);
    if (!tried.includes(path) && libcMatches(file)) tried.push(path);
  }
  const result = loadCandidates(tried);
  return { ...result, errors: [...errors, ...result.errors] };
}

function loadCandidates(paths: readonly string[]): NativeLoadResult {
  const errors: { candidate: string; error: string }[] = [];
  for (const path of paths) {
    try {
      const binding = requireHere(path) as Partial<NativeBinding>;
      if (typeof binding.nvmlInit !== 'function') throw new Error('not the wattprint addon (no nvmlInit export)');
      return { binding: binding as NativeBinding, path, errors };
    } catch (err) {
      errors.push({ candidate: path, error: firstLines(err) });
    }
  }
  return { errors, fix: NATIVE_FIX };
}

function findPackageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'wattprint') return dir;
      } catch {
        // An unreadable package.json on the way up is not ours; keep walking.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function listNodeFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.node')).sort();
  } catch {
    return [];
  }
}

// prebuildify --tag-libc names files `wattprint.glibc.node` / `wattprint.musl.node`.
function libcMatches(file: string): boolean {
  const tags = file.split('.');
  const musl = existsSync('/etc/alpine-release');
  return musl ? !tags.includes('glibc') : !tags.includes('musl');
}

function firstLines(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').slice(0, 3).join(' ').trim();
}
