// The CLI as published: dist/cli.js from `npm run build` (tsup), the file package.json's bin points to.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../../src/reporters/index.js';
import { ROOT, runCli, tempDir } from './helpers.js';

const cli = join(ROOT, 'dist', 'cli.js');

function newestMtime(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

beforeAll(() => {
  const fresh = () => existsSync(cli) && statSync(cli).mtimeMs >= newestMtime(join(ROOT, 'src'));
  if (fresh()) return;
  // One build at a time across test files and concurrent runs (tsup cleans dist/ first).
  const lock = join(ROOT, 'test', '.tmp', 'dist-build.lock');
  mkdirSync(join(ROOT, 'test', '.tmp'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (!fresh()) execFileSync('npx', ['tsup', '--config', 'test/build/tsup.config.mjs'], { cwd: ROOT, stdio: 'pipe' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}, 180_000);

describe('dist/cli.js (npm run build)', () => {
  it('is the package bin, starts with a shebang and is executable', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin.wattprint).toBe('./dist/cli.js');
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(cli).mode & 0o111).not.toBe(0);
  });

  it('tracks a command, writes the CSV and exits with its status', async () => {
    const out = tempDir();
    const r = await runCli(['run', '-q', '--output-dir', out, '--project-name', 'dist', '--', 'node', '-e', 'process.exit(5)'], { script: cli });
    expect(r.code).toBe(5);
    const [row] = readCsv(join(out, 'emissions.csv'));
    expect(row!.project_name).toBe('dist');
    expect(row!.codecarbon_version).toBe(`wattprint ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`);
  });

  it('carries the GPU table: estimate works from the bundle', async () => {
    const r = await runCli(['estimate', '--gpu', 'T4', '--hours', '10', '--intensity', '100', '--json'], { script: cli });
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.energyKWh).toBeCloseTo(0.7, 12);
    expect(e.emissionsKg).toBeCloseTo(0.07, 12);
  });

  it('rejects a bad flag with exit 2', async () => {
    const r = await runCli(['detect', '--nope'], { script: cli });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("wattprint: unknown option '--nope'\n");
  });
});
