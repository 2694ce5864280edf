// The npm tarball: `npm pack` in a copy of the repo without dist/ or any build (prepack builds it),
// installed with --ignore-scripts into a fresh folder; the prebuilt addon must load from ESM and
// CJS. Package hygiene: size, no source maps, each data set once, publint and arethetypeswrong
// clean, one implementation behind `import` and `require`, the TDP table not read at import. Then
// the install script: silent when the prebuild loads, one line and exit 0 when nothing can be
// built, and a build from source when node-gyp works.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeGpus, TWO_H200, fakeLibrary } from './nvml-helpers.js';

const root = join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', 'dist', 'out', '.wattprint-tmp', 'native/build', 'native/prebuilds', 'native/build-error.log']);
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
  // Of test/, only the build step tsup runs (test/build/) is needed to pack.
  const keep = (rel: string) => !SKIP.has(rel) && !(rel.startsWith('test/') && !rel.startsWith('test/build'));
  cpSync(root, pkg, { recursive: true, filter: (src) => keep(relative(root, src)) && !src.endsWith('.tgz') });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  // No `npm run build` first: the prepack script must make dist/ and the prebuilds.
  const packed = sh('npm', ['pack', '--pack-destination', work], pkg).trim().split('\n').pop()!;
  tarball = join(work, basename(packed));
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // --prefer-offline: the dependencies come from the npm cache when there, else from the registry.
  sh('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], consumer);
  installed = join(consumer, 'node_modules', 'wattprint');
  unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  sh('tar', ['xzf', tarball, '-C', unpacked], work);
}, 400_000);

let unpacked = '';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(k), stringsOf(v, out);
  return out;
}

describe('package hygiene', () => {
  it('unpacks to less than 1.5 MB, without source maps, with docs/ and what the README links', () => {
    const files = filesUnder(join(unpacked, 'package'));
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    // Issue 11's budget, in npm's decimal megabytes. The code is whitespace- and syntax-minified
    // (names kept, so stack traces stay readable without maps).
    expect(bytes).toBeLessThan(1_500_000);
    expect(bytes).toBeGreaterThan(300 * 1024); // the code, docs and both prebuilds are there
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const readme = readFileSync(join(unpacked, 'package', 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1]!);
    expect(links).toContain('docs/report-schema.json');
    for (const link of links) expect(existsSync(join(unpacked, 'package', link)), link).toBe(true);
  });

  it('ships each data set once', () => {
    const runtime = filesUnder(join(unpacked, 'package', 'dist')).filter((f) => /\.(c?js|json)$/.test(f));
    const text = new Map(runtime.map((f) => [f, readFileSync(f, 'utf8')]));
    const dataFiles = filesUnder(join(root, 'src')).filter((f) => /\/data\/[^/]+\.json$/.test(f) && !f.endsWith('cpu-tdp.index.json'));
    expect(dataFiles.length).toBeGreaterThanOrEqual(8);
    const phrases = new Map(dataFiles.map((f) => [f, new Set(stringsOf(JSON.parse(readFileSync(f, 'utf8'))))]));
    for (const file of dataFiles) {
      // Long phrases only (names, regions, descriptions), not identifiers that code also spells
      // (`countryIsoCode`), nor phrases another data set holds too ('Northern Virginia' is both an
      // AWS and a GCP city); the CPU table: every 25th row name.
      const shared = (v: string) => dataFiles.some((f) => f !== file && phrases.get(f)!.has(v));
      let strings = [...phrases.get(file)!].filter((v) => v.length > 12 && !/^[A-Za-z_$][\w$]*$/.test(v) && !v.includes('\n') && !shared(v));
      if (file.endsWith('cpu-tdp.json')) strings = strings.filter((_, i) => i % 25 === 0);
      let found = 0;
      for (const v of strings) {
        const holders = [...text].filter(([, t]) => t.includes(v.replaceAll('"', '\\"')) || t.includes(v)).map(([f]) => relative(unpacked, f));
        expect(holders.length, `${relative(root, file)}: "${v}" in ${holders.join(', ')}`).toBeLessThanOrEqual(1);
        found += holders.length;
      }
      expect(found, relative(root, file)).toBeGreaterThan(0);
    }
  });

  it('publint and arethetypeswrong report nothing', () => {
    const bin = join(root, 'node_modules', '.bin');
    const lint = spawnSync(join(bin, 'publint'), [join(unpacked, 'package'), '--pack', 'false', '--strict'], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toContain('All good!');
    expect(lint.status).toBe(0);
    const attw = spawnSync(join(bin, 'attw'), [tarball, '--format', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(attw.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(pkg.exports).sort());
    expect(report.analysis.problems).toEqual([]);
    expect(attw.status).toBe(0);
  });

  it('has one implementation: classes from `import` and `require` are the same', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       import * as esm from 'wattprint';
       import * as esmTesting from 'wattprint/testing';
       const require = createRequire(import.meta.url);
       const cjs = require('wattprint'), cjsTesting = require('wattprint/testing');
       const t = new esm.EmissionsTracker({ saveToFile: false, countryIsoCode: 'FRA' });
       console.log(JSON.stringify({
         tracker: t instanceof cjs.EmissionsTracker,
         error: esm.WattprintError === cjs.WattprintError,
         clock: new esmTesting.ManualClock() instanceof cjsTesting.ManualClock,
         names: Object.keys(esm).filter((k) => k !== 'default').sort().join() === Object.keys(cjs).sort().join(),
         count: Object.keys(cjs).length,
       }));`,
    ]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tracker: true, error: true, clock: true, names: true });
    expect(out.count).toBeGreaterThan(20);
  });

  it('reads the CPU TDP table on the first lookup, not at import', () => {
    const hook = join(work, 'trace-reads.cjs');
    writeFileSync(
      hook,
      `const fs = require('node:fs'); const { fileURLToPath } = require('node:url'); const seen = (globalThis.__reads = []);
       for (const fn of ['readFileSync', 'openSync']) {
         const orig = fs[fn];
         fs[fn] = function (p, ...a) { seen.push(p instanceof URL ? fileURLToPath(p) : String(p)); return orig.call(this, p, ...a); };
       }`,
    );
    for (const [kind, code] of [
      ['esm', `import { lookupCpuTdp } from 'wattprint';`],
      ['cjs', `const { lookupCpuTdp } = require('wattprint');`],
    ] as const) {
      const body = `${code}
        const before = globalThis.__reads.filter((p) => p.includes('cpu-tdp')).length;
        const hit = lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz');
        console.log(JSON.stringify({ before, after: globalThis.__reads.filter((p) => p.includes('cpu-tdp')), hit }));`;
      const r = node(['--require', hook, ...(kind === 'esm' ? ['--input-type=module'] : []), '-e', body]);
      expect(r.stderr, kind).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.before, kind).toBe(0);
      expect(out.after, kind).toEqual([join(installed, 'dist', 'data', 'cpu-tdp.index.json')]);
      expect(out.hit).toEqual({ name: 'Intel Xeon Gold 6248', tdpW: 150, match: 'normalized' });
    }
  });
});

describe('packed tarball', () => {
  it('ships the prebuilt binaries and the addon sources, not the local build', () => {
    const files = sh('tar', ['tzf', tarball], work).split('\n');
    expect(files).toContain(`package/native/prebuilds/${process.platform}-${process.arch}/wattprint.glibc.node`);
    // The arm64 prebuild needs the cross compiler (test/setup.sh installs it; CI has it).
    if (spawnSync('aarch64-linux-gnu-g++', ['--version']).status === 0) expect(files).toContain('package/native/prebuilds/linux-arm64/wattprint.glibc.node');
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

  it('install script: does nothing on Windows or macOS, even with no prebuild and node-gyp at hand', () => {
    const hook = join(work, 'as-darwin.cjs');
    writeFileSync(hook, "Object.defineProperty(process, 'platform', { value: 'darwin' });");
    const r = node(['--require', hook, join(installed, 'native', 'scripts', 'install.cjs')], { ...process.env, WATTPRINT_BUILD_FROM_SOURCE: '1' });
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
