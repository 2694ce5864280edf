import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmissionsData, ReportContext } from '../../src/types.js';
import { WattprintError } from '../../src/errors.js';
import { CSV_COLUMNS, callbackReporter, jsonReporter } from '../../src/reporters/index.js';
import { BOUNDARY, makeData, tempDir } from './fixture.js';

describe('jsonReporter', () => {
  it('appends one parseable JSON object per report with every CSV field, boundary and phase', () => {
    const dir = tempDir();
    const r = jsonReporter({ outputDir: dir });
    expect(r.id).toBe('json');
    r.report(makeData({ durationS: 1, projectName: 'a,"b"\nc' }), { phase: 'flush', onCsvWrite: 'append' });
    r.report(makeData({ durationS: 2, longitude: undefined }), { phase: 'stop', onCsvWrite: 'append' });
    r.report(makeData({ durationS: 0.5, taskName: 'load' }), { phase: 'task', onCsvWrite: 'append' });
    const lines = readFileSync(join(dir, 'emissions.jsonl'), 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    const recs = lines.slice(0, 3).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const rec of recs) {
      for (const c of CSV_COLUMNS) expect(rec).toHaveProperty(c);
      expect(rec.boundary).toEqual(BOUNDARY);
      expect(rec.intensity_g_per_kwh).toBe(56.1);
      expect(rec.cpu_energy).toBe(0.0012345678901234);
    }
    expect(recs.map((x) => [x.phase, x.duration, x.task_name])).toEqual([
      ['flush', 1, undefined],
      ['stop', 2, undefined],
      ['task', 0.5, 'load'],
    ]);
    expect(recs[0]!.project_name).toBe('a,"b"\nc');
    expect(recs[1]!.longitude).toBeNull();
    expect(existsSync(join(dir, 'emissions.jsonl.lock'))).toBe(false);
  });

  it('starts a new line when the existing file lacks a final newline', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'out.jsonl'), '{"earlier":true}');
    jsonReporter({ outputDir: dir, outputFile: 'out.jsonl' }).report(makeData(), { phase: 'stop', onCsvWrite: 'append' });
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => Object.keys(JSON.parse(l) as object)[0])).toEqual(['earlier', 'timestamp']);
  });

  it('writeReport replaces wattprint-report.json atomically with pretty JSON', () => {
    const dir = tempDir();
    const r = jsonReporter({ outputDir: dir });
    r.writeReport!({ version: 1, calls: [{ name: 'a', energyJ: 1.25 }] });
    r.writeReport!({ version: 2 });
    const text = readFileSync(join(dir, 'wattprint-report.json'), 'utf8');
    expect(text).toBe('{\n  "version": 2\n}\n');
    expect(readdirSync(dir)).toEqual(['wattprint-report.json']);
  });

  it('rejects with REPORTER_IO naming the file', async () => {
    const dir = join(tempDir(), 'nope');
    const r = jsonReporter({ outputDir: dir, reportFile: 'rep.json' });
    await expect(r.report(makeData(), { phase: 'stop', onCsvWrite: 'append' })).rejects.toThrow(WattprintError);
    try {
      r.writeReport!({});
    } catch (e) {
      expect((e as WattprintError).code).toBe('REPORTER_IO');
      expect((e as Error).message).toContain(join(dir, 'rep.json'));
    }
    expect.assertions(3);
  });
});

describe('callbackReporter', () => {
  it('passes data and context to a sync or async function', async () => {
    const got: [EmissionsData, ReportContext][] = [];
    const sync = callbackReporter((d, ctx) => {
      got.push([d, ctx]);
    });
    expect(sync.id).toBe('callback');
    const d = makeData();
    sync.report(d, { phase: 'flush', onCsvWrite: 'append' });
    expect(got[0]![0]).toBe(d);
    expect(got[0]![1].phase).toBe('flush');
    let done = false;
    const asyncR = callbackReporter(async () => {
      await new Promise((r) => setTimeout(r, 5));
      done = true;
    });
    const p = asyncR.report(d, { phase: 'stop', onCsvWrite: 'append' });
    expect(done).toBe(false);
    await p;
    expect(done).toBe(true);
    await expect(callbackReporter(async () => Promise.reject(new Error('sink down'))).report(d, { phase: 'stop', onCsvWrite: 'append' })).rejects.toThrow('sink down');
    expect(() => callbackReporter('nope' as never)).toThrow(/needs a function/);
  });
});
