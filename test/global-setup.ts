/**
 * vitest globalSetup: builds the fake NVML libraries (gcc) and, when missing or older than its
 * sources, the native addon (`npm run build:native`). A failed build never fails the run: the
 * failure is handed to the tests (inject('nativeAddon').error / inject('fakeNvml').error), so only
 * the tests that need the addon fail, with the build log.
 *
 * Provided to tests (`inject(...)`) and exported to child processes (process.env):
 * - fakeNvml: { path, dir, minimalPath } (WATTPRINT_TEST_FAKE_NVML, WATTPRINT_TEST_FAKE_NVML_MINIMAL)
 * - nativeAddon: { path } (WATTPRINT_TEST_NATIVE_ADDON)
 * It also builds dist/ when stale (see distBuild).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

export interface FakeNvmlInfo {
  /** Full fake (v2 entry points, energy counter, per-process data, MIG). */
  path?: string;
  dir?: string;
  /** Old-driver fake: pre-v2 names only, no counter/architecture/per-process/UUID lookup. */
  minimalPath?: string;
  error?: string;
}
export interface NativeAddonInfo {
  path?: string;
  error?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: FakeNvmlInfo;
    nativeAddon: NativeAddonInfo;
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = join(root, 'test', '.tmp');
const BUILD_LOCK_STALE_MS = 5 * 60_000;

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestSource(paths: readonly string[]): number {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) newest = Math.max(newest, newestSource(readdirSync(p).map((f) => join(p, f))));
    else newest = Math.max(newest, mtimeMs(p));
  }
  return newest;
}

/** gcc into a unique file, then rename: concurrent test runs never see a half-written library. */
function buildFake(source: string, dir: string, defines: readonly string[]): string {
  const out = join(dir, 'libnvidia-ml.so.1');
  if (mtimeMs(out) > mtimeMs(source)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.tmp`;
  const args = ['-O2', '-shared', '-fPIC', '-Wl,-soname,libnvidia-ml.so.1', ...defines, '-o', partial, source];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr}`);
  renameSync(partial, out);
  return out;
}

function fakeNvml(): FakeNvmlInfo {
  const source = join(root, 'test', 'fixtures', 'fake-nvml', 'fake_nvml.c');
  try {
    const dir = join(tmp, 'fake-nvml');
    const path = buildFake(source, dir, []);
    const minimalPath = buildFake(source, join(tmp, 'fake-nvml-minimal'), ['-DFAKE_NVML_MINIMAL']);
    return { path, dir, minimalPath };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Serialises builds across concurrent vitest runs (several agents share this checkout). */
function withLock<T>(lockDir: string, fn: () => T): T {
  const deadline = Date.now() + BUILD_LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      if (Date.now() - mtimeMs(lockDir) > BUILD_LOCK_STALE_MS || Date.now() > deadline) rmSync(lockDir, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function nativeAddon(): NativeAddonInfo {
  const addon = join(root, 'native', 'build', 'Release', 'wattprint.node');
  const sources = [join(root, 'native', 'binding.gyp'), join(root, 'native', 'src')];
  const fresh = () => mtimeMs(addon) > newestSource(sources);
  if (fresh()) return { path: addon };
  mkdirSync(tmp, { recursive: true });
  return withLock(join(tmp, 'native-build.lock'), () => {
    if (fresh()) return { path: addon };
    const log = join(tmp, 'native-build.log');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['run', 'build:native'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    writeFileSync(log, `${r.error ? `${r.error.message}\n` : ''}${r.stdout ?? ''}${r.stderr ?? ''}`);
    if (r.status === 0 && existsSync(addon)) return { path: addon };
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => /error|Error|ERR!/.test(l)).slice(-15).join('\n');
    return { error: `npm run build:native failed (exit ${r.status ?? r.error?.message}); log: ${log}\n${tail}` };
  });
}

/**
 * Integration, CLI and packaging tests run the built package: build dist/ once here, before any
 * worker starts, when it is missing or older than src/ (`npm run build` before `npm test` makes
 * this a no-op). Test files never build dist/ themselves, so they cannot race each other.
 */
function distBuild(): string | undefined {
  const out = join(root, 'dist', 'index.js');
  const fresh = () => mtimeMs(out) > newestSource([join(root, 'src'), join(root, 'package.json'), join(root, 'test', 'build')]);
  if (fresh()) return undefined;
  mkdirSync(tmp, { recursive: true });
  return withLock(join(tmp, 'dist-build.lock'), () => {
    if (fresh()) return undefined;
    const r = spawnSync('npx', ['--no-install', 'tsup', '--config', 'test/build/tsup.config.mjs'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    return r.status === 0 ? undefined : `tsup failed (exit ${r.status}):\n${r.stdout}${r.stderr}`;
  });
}

export default function setup(project: TestProject): void {
  const distError = distBuild();
  if (distError) console.warn(`[global-setup] dist/ build failed; tests of the built package will fail:\n${distError}`);
  const fake = fakeNvml();
  const native = nativeAddon();
  project.provide('fakeNvml', fake);
  project.provide('nativeAddon', native);
  if (fake.path) process.env.WATTPRINT_TEST_FAKE_NVML = fake.path;
  if (fake.minimalPath) process.env.WATTPRINT_TEST_FAKE_NVML_MINIMAL = fake.minimalPath;
  if (native.path) process.env.WATTPRINT_TEST_NATIVE_ADDON = native.path;
  if (native.error) console.warn(`[global-setup] native addon unavailable; tests needing it will fail:\n${native.error}`);
  if (fake.error) console.warn(`[global-setup] fake NVML not built: ${fake.error}`);
}
