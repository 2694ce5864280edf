import { describe, it, expect } from 'vitest';
import { CSV_COLUMNS, TASK_CSV_COLUMNS, toCsvRow, toTaskCsvRow, toJsonRecord } from '../../src/reporters/index.js';
import { WattprintError } from '../../src/errors.js';
import { BOUNDARY, expectedCells, makeData } from './fixture.js';

// CodeCarbon 3.x tests/test_data/emissions_valid_headers.csv, verbatim.
const CODECARBON_HEADER =
  'timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue';

describe('CSV columns', () => {
  it('are exactly CodeCarbon 3.x header, 38 columns in order', () => {
    expect(CSV_COLUMNS.join(',')).toBe(CODECARBON_HEADER);
    expect(CSV_COLUMNS).toHaveLength(38);
    expect(TASK_CSV_COLUMNS).toEqual(['task_name', ...CODECARBON_HEADER.split(',')]);
  });

  it('maps every EmissionsData field to its column at full precision', () => {
    const d = makeData();
    const row = toCsvRow(d);
    expect(row).toHaveLength(38);
    const byName = Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, row[k]]));
    expect(byName).toEqual(expectedCells(d));
    // literal spot checks of the unit mapping and precision
    expect(byName.duration).toBe('123.456789');
    expect(byName.cpu_energy).toBe('0.0012345678901234');
    expect(byName.python_version).toBe('20.20.2');
    expect(byName.codecarbon_version).toBe('wattprint 0.1.0');
    expect(byName.ram_total_size).toBe('125.7');
    expect(byName.cpu_count).toBe('16');
    expect(byName.gpu_model).toBe('2 x NVIDIA H200');
    expect(Number(byName.energy_consumed)).toBe(0.0012345678901234 + 0.0234567890123 + 0.000345678);
  });

  it('writes an absent longitude/latitude as empty cells, keeping 38 fields', () => {
    const row = toCsvRow(makeData({ longitude: undefined, latitude: undefined }));
    expect(row).toHaveLength(38);
    expect(row[CSV_COLUMNS.indexOf('longitude')]).toBe('');
    expect(row[CSV_COLUMNS.indexOf('latitude')]).toBe('');
    expect(row[CSV_COLUMNS.indexOf('ram_total_size')]).toBe('125.7');
  });

  it("guards text cells that start like a formula, but not negative numbers", () => {
    const row = toCsvRow(makeData({ projectName: '=HYPERLINK("x")', cpuModel: '-cpu', gpuModel: '+1', region: '@sum', longitude: -1.5 }));
    const get = (c: string) => row[CSV_COLUMNS.indexOf(c)];
    expect(get('project_name')).toBe(`'=HYPERLINK("x")`);
    expect(get('cpu_model')).toBe("'-cpu");
    expect(get('gpu_model')).toBe("'+1");
    expect(get('region')).toBe("'@sum");
    expect(get('longitude')).toBe('-1.5');
    expect(get('run_id')).toBe(makeData().runId);
  });

  it('refuses non-finite numbers instead of writing NaN or Infinity', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      let err: unknown;
      try {
        toCsvRow(makeData({ cpuPowerW: bad }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WattprintError);
      expect((err as WattprintError).code).toBe('REPORTER_DATA');
      expect((err as Error).message).toContain('cpu_power');
      expect((err as Error).message).toContain('cpuPowerW');
    }
    expect(() => toCsvRow(makeData({ latitude: NaN }))).toThrow(/latitude/);
  });

  it('puts the task name first in task rows', () => {
    const row = toTaskCsvRow(makeData({ taskName: 'load, "fast"' }));
    expect(row).toHaveLength(39);
    expect(row[0]).toBe('load, "fast"');
    expect(row.slice(1)).toEqual(toCsvRow(makeData()));
  });
});

describe('JSON records', () => {
  it('carry every CSV column with typed values plus boundary, intensity and phase', () => {
    const d = makeData({ longitude: undefined, projectName: '=x' });
    const rec = toJsonRecord(d, { phase: 'stop', onCsvWrite: 'append' });
    for (const c of CSV_COLUMNS) expect(rec).toHaveProperty(c);
    expect(rec.duration).toBe(123.456789);
    expect(rec.cpu_count).toBe(16);
    expect(rec.longitude).toBeNull();
    expect(rec.latitude).toBe(47.2184);
    expect(rec.project_name).toBe('=x');
    expect(rec.python_version).toBe('20.20.2');
    expect(rec.phase).toBe('stop');
    expect(rec.intensity_g_per_kwh).toBe(56.1);
    expect(rec.intensity_source).toBe('codecarbon:global_energy_mix (Our World in Data)');
    expect(rec.experiment_name).toBe('base');
    expect(rec.boundary).toEqual(BOUNDARY);
    expect(rec).not.toHaveProperty('task_name');
    expect(toJsonRecord(makeData({ taskName: 't1' }), { phase: 'task', onCsvWrite: 'append' }).task_name).toBe('t1');
  });
});
