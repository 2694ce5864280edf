/**
 * Shared set-up of the CLI tests: a bundle of src/cli/main.ts built with esbuild into a temporary
 * package root (so each test file runs the CLI of the current sources without `npm run build`), and
 * a runner that spawns it as a child process with a clean environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let bundle: string | undefined;

/** A temporary folder laid out like the installed package, with a `dist/` (only its data) to bundle into. */
export function tempPackageRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  for (const entry of readdirSync(ROOT)) {
    if (['package.json', 'dist', 'src', 'test', '.git'].includes(entry) || entry.startsWith('.')) continue;
    symlinkSync(join(ROOT, entry), join(root, entry));
  }
  mkdirSync(join(root, 'dist', 'data'), { recursive: true });
  // The CPU TDP index is read at run time from dist/data/, as in the package.
  copyFileSync(join(ROOT, 'src', 'estimate', 'data', 'cpu-tdp.index.json'), join(root, 'dist', 'data', 'cpu-tdp.index.json'));
  // So are the offline intensity tables (src/intensity/tables.ts); copying all of them is harmless.
  const intensityData = join(ROOT, 'src', 'intensity', 'data');
  for (const f of readdirSync(intensityData)) if (f.endsWith('.json')) copyFileSync(join(intensityData, f), join(root, 'dist', 'data', f));
  return root;
}

/**
 * Bundles the CLI into `<tmp>/dist/cli.js`. The temporary root mirrors the package: a copy of
 * package.json (src/version.ts reads `../package.json` next to dist/) and links to node_modules
 * and the native build, so the bundle resolves its dependencies and the addon as the installed
 * package does.
 */
export function cliBundle(): string {
  if (bundle) return bundle;
  const root = tempPackageRoot('wattprint-cli-');
  const outfile = join(root, 'dist', 'cli.js');
  buildSync({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return (bundle = outfile);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to a clean environment (no WATTPRINT_* of the test runner, HOME in a temp folder). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run this file instead of the bundle (the dist/cli.js test). */
  script?: string;
}

/** The runner's environment without WATTPRINT_* (the test set-up exports some) and with a private HOME. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('WATTPRINT_')) env[k] = v;
  env.HOME = mkdtempSync(join(tmpdir(), 'wattprint-home-'));
  return { ...env, ...extra };
}

/** Starts the CLI; `done` resolves with its exit and output. */
export function startCli(
  args: readonly string[],
  opts: CliOptions = {},
): { child: ChildProcess; done: Promise<CliResult>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [opts.script ?? cliBundle(), ...args], {
    cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), 'wattprint-cwd-')),
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** Resolves once `read()` contains `text` (polling), rejects after `timeoutMs`. */
export async function waitFor(read: () => string, text: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!read().includes(text)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(text)} in:\n${read()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function tempDir(prefix = 'wattprint-out-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A Node one-liner that burns `cpuS` seconds of CPU time (not wall time: robust on a loaded machine). */
export function burnCpu(cpuS: number): string[] {
  // user + system: the getrusage call in the loop itself is system time.
  return ['node', '-e', `for (;;) { const u = process.cpuUsage(); if (u.user + u.system >= ${Math.round(cpuS * 1e6)}) break; }`];
}

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
