// The npm tarball: `npm run build` + `npm pack` in a copy of the repo, installed with
// --ignore-scripts into a fresh folder; the prebuilt addon must load from ESM and CJS. Then the
// install script: silent when the prebuild loads, one line and exit 0 when nothing can be built,
// and a build from source when node-gyp works.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeGpus, TWO_H200, fakeLibrary } from './nvml-helpers.js';

const root = join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', 'dist', 'test', 'out', '.wattprint-tmp', 'native/build', 'native/prebuilds', 'native/build-error.log']);
let work = '';
let tarball = '';
let installed = '';

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
  } catch (err) {
    const e = err as SpawnSyncReturns<string>;
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function node(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, args, { cwd: join(work, 'consumer'), env, encoding: 'utf8', timeout: 120_000 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'wattprint-pack-'));
  const pkg = join(work, 'pkg');
  // Build in a copy: `npm run build` cleans dist/ and moves native/build, which other test runs use.
  cpSync(root, pkg, { recursive: true, filter: (src) => !SKIP.has(relative(root, src)) && !src.endsWith('.tgz') });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  sh('npm', ['run', 'build'], pkg);
  const packed = sh('npm', ['pack', '--pack-destination', work], pkg).trim().split('\n').pop()!;
  tarball = join(work, basename(packed));
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // --prefer-offline: the dependencies come from the npm cache when there, else from the registry.
  sh('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], consumer);
  installed = join(consumer, 'node_modules', 'wattprint');
}, 300_000);

describe('packed tarball', () => {
  it('ships the prebuilt binary and the addon sources, not the local build', () => {
    const files = sh('tar', ['tzf', tarball], work).split('\n');
    expect(files).toContain(`package/native/prebuilds/${process.platform}-${process.arch}/wattprint.glibc.node`);
    for (const f of ['native/binding.gyp', 'native/src/nvml.cc', 'native/src/addon.cc', 'native/scripts/install.cjs', 'dist/index.js', 'dist/index.cjs']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => f.includes('native/build/'))).toEqual([]);
  });

  it('loads the prebuilt addon after `npm install --ignore-scripts`, from ESM and CJS', () => {
    expect(existsSync(join(installed, 'native', 'build'))).toBe(false);
    const prebuilt = join(installed, 'native', 'prebuilds', `${process.platform}-${process.arch}`, 'wattprint.glibc.node');
    const gpus = new FakeGpus(TWO_H200);
    const env = { ...process.env, FAKE_NVML_FILE: gpus.file };
    const probe = `const r = loadNative();
      const lib = r.binding.nvmlInit(${JSON.stringify(fakeLibrary())});
      console.log(JSON.stringify({ path: r.path, errors: r.errors, gpus: r.binding.nvmlDeviceGetCount(), lib }));`;
    const esm = node(['--input-type=module', '-e', `import { loadNative } from 'wattprint'; ${probe}`], env);
    const cjs = node(['-e', `const { loadNative } = require('wattprint'); ${probe}`], env);
    for (const r of [esm, cjs]) {
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ path: prebuilt, errors: [], gpus: 2, lib: fakeLibrary() });
    }
  });

  it('install script: does nothing when the prebuild loads', () => {
    const r = node([join(installed, 'native', 'scripts', 'install.cjs')]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(existsSync(join(installed, 'native', 'build'))).toBe(false);
  });

  it('install script: one line and exit 0 when no prebuild loads and node-gyp is missing; then builds from source', () => {
    rmSync(join(installed, 'native', 'prebuilds'), { recursive: true });
    const bare = { PATH: '/nonexistent', HOME: work };
    const failed = node([join(installed, 'native', 'scripts', 'install.cjs')], bare);
    expect(failed.status).toBe(0);
    expect(failed.stdout).toMatch(/^wattprint: native addon not built \(node-gyp not found\) \(log: .*build-error\.log\); GPU energy \(NVML\) will not be measured .* will use estimates where RAPL is unreadable\. Fix: .*`npm rebuild wattprint`\.\n$/);
    const missing = node(['-e', "const r = require('wattprint').loadNative(); console.log(JSON.stringify([r.binding === undefined, r.errors.length, r.fix]))"]);
    const [noBinding, errorCount, fix] = JSON.parse(missing.stdout) as [boolean, number, string];
    expect([noBinding, errorCount]).toEqual([true, 1]);
    expect(fix).toContain('npm rebuild wattprint');

    // npm hands lifecycle scripts its bundled node-gyp (npm_config_node_gyp); nodedir keeps it offline.
    const npmRoot = sh('npm', ['root', '-g'], work).trim();
    const gyp = process.env.npm_config_node_gyp ?? join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    const nodedir = process.env.npm_config_nodedir ?? sh('npm', ['config', 'get', 'nodedir'], work).trim();
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_node_gyp: gyp, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
    if (nodedir && nodedir !== 'undefined') env.npm_config_nodedir = nodedir;
    const built = node([join(installed, 'native', 'scripts', 'install.cjs')], env);
    expect([built.status, built.stdout]).toEqual([0, '']);
    expect(readdirSync(join(installed, 'native', 'build', 'Release'))).toContain('wattprint.node');
    const loaded = node(['-e', "const r = require('wattprint').loadNative(); console.log(r.path)"]);
    expect(loaded.stdout.trim()).toBe(join(installed, 'native', 'build', 'Release', 'wattprint.node'));
  }, 180_000);
});
