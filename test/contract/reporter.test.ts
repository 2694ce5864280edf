// The Reporter contract, run over every implementation: csv, json, callback and InMemoryReporter.
// Each must take run, flush and task rows without throwing, keep every row whole with its numbers,
// and accept flush/shutdown/writeReport (where it has them) more than once.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callbackReporter, csvReporter, jsonReporter, readCsv, taskCsvPath } from '../../src/reporters/index.js';
import { InMemoryReporter } from '../../src/testing/index.js';
import type { EmissionsData, ReportContext, Reporter } from '../../src/types.js';
import { makeData } from '../reporters/fixture.js';

/** What a reporter kept, as (phase-independent) rows of run id, task name and energy. */
interface Kept {
  runId: string;
  taskName?: string;
  energyKWh: number;
  emissionsKg: number;
}

interface Implementation {
  readonly name: string;
  make(): { reporter: Reporter; kept(): Kept[]; keptReport?(): unknown };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'wattprint-contract-reporter-'));
const RUN_ID = makeData().runId;

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'csvReporter',
    make() {
      const dir = tmp();
      const reporter = csvReporter({ outputDir: dir });
      const rows = (path: string) => {
        try {
          return readCsv(path);
        } catch {
          return [];
        }
      };
      return {
        reporter,
        kept: () => [
          ...rows(join(dir, 'emissions.csv')).map((r) => ({ runId: r.run_id!, energyKWh: Number(r.energy_consumed), emissionsKg: Number(r.emissions) })),
          ...rows(taskCsvPath(dir, 'base', RUN_ID)).map((r) => ({
            runId: r.run_id!,
            taskName: r.task_name!,
            energyKWh: Number(r.energy_consumed),
            emissionsKg: Number(r.emissions),
          })),
        ],
      };
    },
  },
  {
    name: 'jsonReporter',
    make() {
      const dir = tmp();
      const reporter = jsonReporter({ outputDir: dir });
      const lines = () => {
        try {
          return readFileSync(join(dir, 'emissions.jsonl'), 'utf8').trim().split('\n');
        } catch {
          return [];
        }
      };
      return {
        reporter,
        kept: () =>
          lines().map((l) => {
            const r = JSON.parse(l) as Record<string, unknown>;
            return {
              runId: r.run_id as string,
              ...(r.task_name !== undefined ? { taskName: r.task_name as string } : {}),
              energyKWh: r.energy_consumed as number,
              emissionsKg: r.emissions as number,
            };
          }),
        keptReport: () => JSON.parse(readFileSync(join(dir, 'wattprint-report.json'), 'utf8')),
      };
    },
  },
  {
    name: 'callbackReporter',
    make() {
      const seen: EmissionsData[] = [];
      return { reporter: callbackReporter(async (d) => void seen.push(d)), kept: () => seen.map(toKept) };
    },
  },
  {
    name: 'InMemoryReporter',
    make() {
      const r = new InMemoryReporter();
      return { reporter: r, kept: () => r.rows.map((x) => toKept(x.data)), keptReport: () => r.reports.at(-1) };
    },
  },
];

function toKept(d: EmissionsData): Kept {
  return { runId: d.runId, ...(d.taskName !== undefined ? { taskName: d.taskName } : {}), energyKWh: d.energyConsumedKWh, emissionsKg: d.emissionsKg };
}

const ctx = (phase: ReportContext['phase']): ReportContext => ({ phase, onCsvWrite: 'append' });

describe.each(IMPLEMENTATIONS)('Reporter contract: $name', (impl) => {
  it('has an id', () => {
    expect(impl.make().reporter.id).toMatch(/^[\w-]+$/);
  });

  it('keeps every row whole, with its numbers, for flush, task and stop', async () => {
    const { reporter, kept } = impl.make();
    const flushRow = makeData({ energyConsumedKWh: 0.125, emissionsKg: 0.0075 });
    const taskRow = makeData({ taskName: 'epoch-1', energyConsumedKWh: 0.0625, emissionsKg: 0.00375 });
    const stopRow = makeData({ energyConsumedKWh: 0.25, emissionsKg: 0.015 });
    await reporter.report(flushRow, ctx('flush'));
    await reporter.report(taskRow, ctx('task'));
    await reporter.report(stopRow, ctx('stop'));
    const rows = kept();
    expect(rows).toHaveLength(3);
    const byEnergy = [...rows].sort((a, b) => a.energyKWh - b.energyKWh);
    expect(byEnergy.map((r) => [r.energyKWh, r.emissionsKg])).toEqual([
      [0.0625, 0.00375],
      [0.125, 0.0075],
      [0.25, 0.015],
    ]);
    expect(byEnergy[0]!.taskName).toBe('epoch-1');
    expect(rows.every((r) => r.runId === RUN_ID)).toBe(true);
  });

  it('takes the run report where it has writeReport, replacing the previous one', async () => {
    const { reporter, keptReport } = impl.make();
    if (!reporter.writeReport) return;
    await reporter.writeReport({ schemaVersion: 1, n: 1 });
    await reporter.writeReport({ schemaVersion: 1, n: 2 });
    expect(keptReport?.()).toEqual({ schemaVersion: 1, n: 2 });
  });

  it('accepts flush and shutdown more than once, after its rows', async () => {
    const { reporter, kept } = impl.make();
    await reporter.report(makeData(), ctx('stop'));
    for (let i = 0; i < 2; i++) {
      await reporter.flush?.();
      await reporter.shutdown?.();
    }
    expect(kept()).toHaveLength(1);
  });
});
