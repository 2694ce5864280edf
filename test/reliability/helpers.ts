/**
 * Shared set-up of the fault-injection suite: the library (src/index.ts) bundled with esbuild into
 * a temporary package root, and child processes running small scripts against it, so faults (real
 * signals, file size limits, planted files) hit the real code in a real process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT, cleanEnv, tempPackageRoot, type CliResult } from '../cli/helpers.js';

let root: string | undefined;

/** `<tmp root>/dist/index.js`: the library of the current sources, resolving node_modules and the addon like the package. */
export function libRoot(): string {
  if (root) return root;
  const dir = tempPackageRoot('wattprint-lib-');
  buildSync({
    entryPoints: { index: join(ROOT, 'src', 'index.ts'), reporters: join(ROOT, 'src', 'reporters', 'index.ts') },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: join(dir, 'dist'),
    logLevel: 'error',
  });
  return (root = dir);
}

/** How a child ended: the CLI runner's result shape. */
export type ChildResult = CliResult;

/**
 * Writes `source` (an ES module that may import './index.js') next to the bundle and starts it
 * with `args`. `prefix` runs it under another program (e.g. `prlimit --fsize=N`).
 */
export function startScript(
  source: string,
  opts: { args?: string[]; env?: Record<string, string>; prefix?: string[]; cwd?: string } = {},
): { child: ChildProcess; done: Promise<ChildResult> } {
  const dist = join(libRoot(), 'dist');
  const file = join(dist, `script-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const argv = [...(opts.prefix ?? []), process.execPath, file, ...(opts.args ?? [])];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), 'wattprint-cwd-')),
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Resolves once `path` exists (the child's "ready" marker). */
export async function waitForFile(path: string, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wattprint-rel-'));
}

/** Tracker options that keep a child quick and offline: no hardware roots, fixed location. */
export const QUIET_TRACKER = `{ countryIsoCode: 'FRA', measurePowerSecs: 0.2, sysfsRoot: '/nonexistent', procfsRoot: '/nonexistent', devRoot: '/nonexistent', native: false }`;
