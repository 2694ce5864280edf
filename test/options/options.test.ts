import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker } from '../../src/tracker.js';
import { envName, resolveOptions, suggestOption } from '../../src/options.js';
import { WattprintError } from '../../src/errors.js';

const dirs = () => {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-opts-'));
  const cwd = join(root, 'cwd');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  return { cwd, home };
};

function errorOf(fn: () => unknown): WattprintError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WattprintError);
    return e as WattprintError;
  }
  throw new Error('expected a WattprintError');
}

describe('option validation at construction', () => {
  const ctx = () => ({ ...dirs(), env: {} });

  it('suggests the camelCase name for snake_case and CodeCarbon spellings', () => {
    const e = errorOf(() => resolveOptions({ measure_power_secs: 5 } as never, ctx()));
    expect(e.code).toBe('UNKNOWN_OPTION');
    expect(e.message).toContain('`measure_power_secs`');
    expect(e.message).toContain('did you mean `measurePowerSecs`');
    expect(suggestOption('force_cpu_power')).toBe('forceCpuPowerW');
    expect(suggestOption('country_iso_code')).toBe('countryIsoCode');
    expect(suggestOption('projetName')).toBe('projectName');
    expect(suggestOption('completelyDifferent')).toBeUndefined();
  });

  it.each([
    [{ measurePowerSecs: 'fast' }, 'measurePowerSecs', /expected a number/],
    [{ measurePowerSecs: 0 }, 'measurePowerSecs', /> 0/],
    [{ measurePowerSecs: -3 }, 'measurePowerSecs', /> 0/],
    [{ pue: 0.8 }, 'pue', /between 1 and 5/],
    [{ wue: -1 }, 'wue', /≥ 0/],
    [{ onCsvWrite: 'overwrite' }, 'onCsvWrite', /'append', 'update'/],
    [{ trackingMode: 'container' }, 'trackingMode', /'machine', 'process'/],
    [{ countryIsoCode: 'FR' }, 'countryIsoCode', /alpha-3/],
    [{ countryIsoCode: 'XYZ' }, 'countryIsoCode', /unknown ISO 3166-1 alpha-3 code 'XYZ'/],
    [{ saveToFile: 'yes please' }, 'saveToFile', /true or false/],
    [{ reporters: [{}] }, 'reporters', /report\(data, context\)/],
    [{ outputFile: 'a/b.csv' }, 'outputFile', /without folders/],
    [{ cloudProvider: 'gcp' }, 'cloudRegion', /required/],
    [{ cloudProvider: 'gcp', cloudRegion: 'mars-north1' }, 'cloudRegion', /unknown GCP region/],
    [{ amortize: { trainingEmissionsKg: 10, expectedRequests: 0 } }, 'amortize', /positive integer/],
    [{ forceCpuPowerW: Number.NaN }, 'forceCpuPowerW', /finite/],
  ])('rejects %j naming `%s`', (opts, option, pattern) => {
    const e = errorOf(() => resolveOptions({ saveToFile: false, ...(opts as object) } as never, ctx()));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.option).toBe(option);
    expect(e.message).toContain(`\`${option}\``);
    expect(e.message).toMatch(pattern);
  });

  it('creates a missing output folder, and rejects one that cannot be created or is a file with OUTPUT_DIR', () => {
    const c = ctx();
    const nested = join(c.cwd, 'out', 'runs');
    expect(resolveOptions({ outputDir: nested }, c).outputDir).toBe(nested);
    expect(statSync(nested).isDirectory()).toBe(true);
    const file = join(c.cwd, 'file');
    writeFileSync(file, '');
    const e = errorOf(() => resolveOptions({ outputDir: join(file, 'sub') }, c));
    expect(e.code).toBe('OUTPUT_DIR');
    expect(e.option).toBe('outputDir');
    expect(e.message).toMatch(/does not exist and cannot be created \(ENOTDIR\)/);
    expect(errorOf(() => resolveOptions({ outputDir: file }, c)).message).toMatch(/not a folder/);
    // Without file output the folder is neither checked nor created.
    expect(() => resolveOptions({ outputDir: join(c.cwd, 'nope'), saveToFile: false }, c)).not.toThrow();
    expect(existsSync(join(c.cwd, 'nope'))).toBe(false);
  });

  it('throws from the EmissionsTracker constructor, not later', () => {
    expect(() => new EmissionsTracker({ pue: 0 })).toThrow(/`pue`/);
  });

  it('applies CodeCarbon defaults', () => {
    const o = resolveOptions({ saveToFile: false }, ctx());
    expect(o).toMatchObject({
      measurePowerSecs: 15,
      outputFile: 'emissions.csv',
      onCsvWrite: 'append',
      trackingMode: 'machine',
      pue: 1,
      wue: 0,
      experimentName: 'base',
    });
    expect(o.origins.measurePowerSecs).toBe('default');
  });
});

describe('environment and config files', () => {
  it('maps option names to WATTPRINT_ variables', () => {
    expect(envName('measurePowerSecs')).toBe('WATTPRINT_MEASURE_POWER_SECS');
    expect(envName('forceCarbonIntensityGPerKWh')).toBe('WATTPRINT_FORCE_CARBON_INTENSITY_G_PER_KWH');
    expect(envName('sysfsRoot')).toBe('WATTPRINT_SYSFS_ROOT');
    expect(envName('forceCpuPowerW')).toBe('WATTPRINT_FORCE_CPU_POWER_W');
  });

  it('resolves constructor > env > local file > home file', () => {
    const { cwd, home } = dirs();
    writeFileSync(join(home, '.wattprint.json'), JSON.stringify({ projectName: 'home', pue: 1.1, wue: 3, experimentName: 'home-exp' }));
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ projectName: 'local', pue: 1.2 , measurePowerSecs: '7' }));
    const env = { WATTPRINT_PROJECT_NAME: 'env', WATTPRINT_SAVE_TO_FILE: 'false', WATTPRINT_GPU_IDS: '0, GPU-abc' };
    const o = resolveOptions({ projectName: 'ctor' }, { cwd, home, env });
    expect(o.projectName).toBe('ctor');
    expect(o.pue).toBe(1.2);
    expect(o.wue).toBe(3);
    expect(o.experimentName).toBe('home-exp');
    expect(o.measurePowerSecs).toBe(7);
    expect(o.saveToFile).toBe(false);
    expect(o.gpuIds).toEqual(['0', 'GPU-abc']);
    expect(o.origins).toMatchObject({ projectName: 'constructor', pue: 'local-config', wue: 'home-config', saveToFile: 'env' });
    const o2 = resolveOptions({}, { cwd, home, env });
    expect(o2.projectName).toBe('env');
  });

  it('names the variable or file holding a bad value', () => {
    const { cwd, home } = dirs();
    const bad = errorOf(() => resolveOptions({}, { cwd, home, env: { WATTPRINT_PUE: 'high' } }));
    expect(bad.message).toBe("Invalid option `pue`: expected a number, got 'high' (from the environment variable WATTPRINT_PUE)");
    expect(bad).toMatchObject({ code: 'INVALID_OPTION', option: 'pue', reason: "expected a number, got 'high'", origin: { kind: 'env', variable: 'WATTPRINT_PUE' } });
    expect(() => resolveOptions({}, { cwd, home, env: { WATTPRINT_MEASURE_POWER_SEC: '5' } })).toThrow(
      /Unknown option `WATTPRINT_MEASURE_POWER_SEC` in the environment; did you mean `measurePowerSecs`/,
    );
    expect(() => resolveOptions({ saveToFile: false }, { cwd, home, env: { WATTPRINT_DEPLOY_SLOT: 'blue' } })).not.toThrow();
    writeFileSync(join(cwd, '.wattprint.json'), '{ not json');
    const e = errorOf(() => resolveOptions({}, { cwd, home, env: {} }));
    expect(e.code).toBe('CONFIG_FILE');
    expect(e.message).toContain(join(cwd, '.wattprint.json'));
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ output_dir: '.' }));
    expect(errorOf(() => resolveOptions({}, { cwd, home, env: {} })).message).toMatch(/in .*\.wattprint\.json; did you mean `outputDir`/);
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ clock: 1 }));
    expect(errorOf(() => resolveOptions({}, { cwd, home, env: {} })).message).toMatch(/pass it to the constructor/);
  });

  it('resolves a relative output folder against the working directory', () => {
    const { cwd, home } = dirs();
    mkdirSync(join(cwd, 'out'));
    const o = resolveOptions({}, { cwd, home, env: { WATTPRINT_OUTPUT_DIR: 'out' } });
    expect(o.outputDir).toBe(join(cwd, 'out'));
  });
});
