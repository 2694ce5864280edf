import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { WattprintError } from '../../src/errors.js';
import { describeOptionError } from '../../src/cli/tracker-flags.js';

function dirs() {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-trust-'));
  const cwd = join(root, 'repo');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  return { root, cwd, home, env: {} };
}

function errorOf(fn: () => unknown): WattprintError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WattprintError);
    return e as WattprintError;
  }
  throw new Error('expected a WattprintError');
}

const local = (cwd: string, cfg: object) => writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify(cfg));

describe('a project-local .wattprint.json is not trusted with paths', () => {
  it.each([
    ['nvmlLibraryPath', '/tmp/evil.so'],
    ['native', '/tmp/evil.node'],
    ['sysfsRoot', '/tmp/fake-sys'],
    ['procfsRoot', '/tmp/fake-proc'],
    ['devRoot', '/tmp/fake-dev'],
  ])('rejects %s, naming the option, the file and the fix', (option, value) => {
    const c = dirs();
    local(c.cwd, { [option]: value });
    const e = errorOf(() => resolveOptions({ saveToFile: false }, c));
    expect(e.code).toBe('UNTRUSTED_OPTION');
    expect(e.option).toBe(option);
    expect(e.origin).toEqual({ kind: 'config-file', path: join(c.cwd, '.wattprint.json'), scope: 'local' });
    expect(e.message).toContain(join(c.cwd, '.wattprint.json'));
    expect(e.message).toMatch(/WATTPRINT_[A-Z_]+ variable, a CLI flag or ~\/\.wattprint\.json/);
  });

  it('takes the same values from the home file, the environment and the constructor', () => {
    const c = dirs();
    writeFileSync(join(c.home, '.wattprint.json'), JSON.stringify({ nvmlLibraryPath: '/opt/nvml/libnvidia-ml.so.1', sysfsRoot: '/host/sys' }));
    const o = resolveOptions({ saveToFile: false, devRoot: '/host/dev' }, { ...c, env: { WATTPRINT_PROCFS_ROOT: '/host/proc', WATTPRINT_NATIVE: '/opt/w.node' } });
    expect(o).toMatchObject({ nvmlLibraryPath: '/opt/nvml/libnvidia-ml.so.1', sysfsRoot: '/host/sys', procfsRoot: '/host/proc', devRoot: '/host/dev', native: '/opt/w.node' });
    expect(o.origins).toMatchObject({ nvmlLibraryPath: 'home-config', procfsRoot: 'env', devRoot: 'constructor', native: 'env' });
    expect(resolveOptions({ saveToFile: false }, { ...c, env: { WATTPRINT_NATIVE: 'off' } }).native).toBe(false);
    expect(errorOf(() => resolveOptions({ saveToFile: false }, { ...c, env: { WATTPRINT_NATIVE: ' ' } })).reason).toBe('expected true, false or the path of a .node file');
    expect(errorOf(() => resolveOptions({ saveToFile: false, native: 3 as never }, c)).reason).toBe('expected a boolean or a string, got number');
  });

  it('still lets the project file turn the addon off and set plain options', () => {
    const c = dirs();
    local(c.cwd, { native: false, projectName: 'repo', countryIsoCode: 'FRA', pue: 1.2 });
    expect(resolveOptions({ saveToFile: false }, c)).toMatchObject({ native: false, projectName: 'repo', countryIsoCode: 'FRA', pue: 1.2 });
  });

  it('keeps its outputDir inside the working folder, symbolic links resolved', () => {
    const c = dirs();
    mkdirSync(join(c.cwd, 'out'));
    local(c.cwd, { outputDir: 'out' });
    expect(resolveOptions({}, c).outputDir).toBe(join(c.cwd, 'out'));
    for (const outside of [c.home, '..', '../home', '/tmp']) {
      local(c.cwd, { outputDir: outside });
      const e = errorOf(() => resolveOptions({}, c));
      expect(e.code, outside).toBe('UNTRUSTED_OPTION');
      expect(e.option).toBe('outputDir');
    }
    symlinkSync(c.home, join(c.cwd, 'link-to-home'));
    local(c.cwd, { outputDir: 'link-to-home' });
    expect(errorOf(() => resolveOptions({}, c)).code).toBe('UNTRUSTED_OPTION');
    // A folder not created yet under the link points outside too.
    local(c.cwd, { outputDir: 'link-to-home/new/deeper', saveToFile: false });
    expect(errorOf(() => resolveOptions({}, c)).code).toBe('UNTRUSTED_OPTION');
    // The same folder is fine from the environment: the user chose it.
    local(c.cwd, {});
    expect(resolveOptions({}, { ...c, env: { WATTPRINT_OUTPUT_DIR: c.home } }).outputDir).toBe(c.home);
  });

  it('outputFile is a file name inside outputDir, from any origin', () => {
    const c = dirs();
    for (const bad of ['../../.bashrc', '..', '.', 'a/b.csv', 'a\\b.csv']) {
      local(c.cwd, { outputFile: bad });
      expect(errorOf(() => resolveOptions({}, c)).option, bad).toBe('outputFile');
      expect(errorOf(() => resolveOptions({ outputFile: bad, saveToFile: false }, { ...c, cwd: c.home })).option, bad).toBe('outputFile');
    }
  });
});

describe('gpuIds are checked at construction', () => {
  it.each([[[-1]], [['-1']], [[1.5]], [[Number.NaN]], [['gpu zero']], [[null]], ['0,-2']])('rejects %j', (gpuIds) => {
    const e = errorOf(() => resolveOptions({ saveToFile: false, gpuIds: gpuIds as never }, dirs()));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.option).toBe('gpuIds');
    expect(e.reason).toMatch(/gpuIds\[\d\]/);
  });

  it('accepts indexes, UUIDs, prefixes and MIG UUIDs', () => {
    const ids = [0, '3', 'GPU-8a3f12cd-0000-4e5f-9a7b-000000000001', '8a3f', 'MIG-c3f0d2a1-11aa-5e4f-8d11-0123456789ab', 'MIG-GPU-8a3f12cd/1/0'];
    expect(resolveOptions({ saveToFile: false, gpuIds: ids }, dirs()).gpuIds).toEqual(ids.map(String));
  });
});

describe('errors carry origin and reason; the CLI reads those fields', () => {
  it('gives the origin of a value from each layer', () => {
    const c = dirs();
    writeFileSync(join(c.home, '.wattprint.json'), JSON.stringify({ wue: -1 }));
    expect(errorOf(() => resolveOptions({ saveToFile: false }, c)).origin).toEqual({ kind: 'config-file', path: join(c.home, '.wattprint.json'), scope: 'home' });
    const ctor = errorOf(() => resolveOptions({ saveToFile: false, pue: 9 }, { ...c, home: c.cwd }));
    expect(ctor).toMatchObject({ option: 'pue', origin: { kind: 'constructor' }, reason: 'expected a PUE between 1 and 5 (1 = no facility overhead), got 9' });
    // A folder that cannot be created (its parent is a file).
    writeFileSync(join(c.root, 'a-file'), '');
    const missing = errorOf(() => resolveOptions({}, { ...c, home: c.cwd, env: { WATTPRINT_OUTPUT_DIR: join(c.root, 'a-file', 'nope') } }));
    expect(missing).toMatchObject({ code: 'OUTPUT_DIR', option: 'outputDir', origin: { kind: 'env', variable: 'WATTPRINT_OUTPUT_DIR' } });
  });

  it('names the flag from the fields, whatever the message says', () => {
    const typed = new WattprintError('INVALID_OPTION', 'wording the CLI must not parse', { option: 'pue', origin: { kind: 'constructor' }, reason: 'too low' });
    expect(describeOptionError(typed, { pue: 0.5 })).toBe('invalid value for --pue: too low');
    const fromEnv = new WattprintError('INVALID_OPTION', 'the library message', { option: 'pue', origin: { kind: 'env', variable: 'WATTPRINT_PUE' }, reason: 'too low' });
    expect(describeOptionError(fromEnv, {})).toBe('the library message');
  });
});
