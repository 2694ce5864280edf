import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker, csvReporter, jsonReporter, type EmissionsData } from '../../src/index.js';
import { FakePowerSource, InMemoryReporter, ManualClock } from '../../src/testing/index.js';
import { ROOT } from '../cli/helpers.js';
import { makeProcfs } from '../system/procfs-fixture.js';
import { docSection } from './doc-section.js';

/**
 * The fixed input of the examples in docs/reporters.md: a real tracker run (fake sources, a manual
 * clock, a fixture procfs, France's offline intensity), with the fields that depend on the host,
 * the moment or the package version replaced by fixed values.
 */
async function exampleData(): Promise<{ data: EmissionsData; ctx: { phase: 'stop'; onCsvWrite: 'append' } }> {
  const proc = makeProcfs();
  proc.write('meminfo', 'MemTotal: 131072000 kB\nMemFree: 70000000 kB\nMemAvailable: 80000000 kB\nBuffers: 100000 kB\nCached: 6000000 kB\nSReclaimable: 400000 kB\n');
  proc.stat([100, 0, 100, 800, 0, 0, 0, 0, 0, 0]);
  const clock = new ManualClock(0);
  const out = new InMemoryReporter();
  const tracker = new EmissionsTracker({
    projectName: 'demo',
    countryIsoCode: 'FRA',
    sources: {
      cpu: [new FakePowerSource({ component: 'cpu', powerW: 36, clock, id: 'rapl', devices: [{ id: 'package-0', name: 'package-0' }] })],
      gpu: [new FakePowerSource({ component: 'gpu', powerW: 680, clock, id: 'nvml', devices: [{ id: '0', name: 'NVIDIA H200' }, { id: '1', name: 'NVIDIA H200' }] })],
      ram: [new FakePowerSource({ component: 'ram', powerW: 10, clock, id: 'ram-dimm-model', kind: 'estimated' })],
    },
    reporters: [out],
    saveToFile: false,
    procfsRoot: proc.root,
    handleSignals: false,
    clock: clock.now,
  });
  tracker.start();
  clock.advance(120_000);
  await tracker.stop();
  const data: EmissionsData = {
    ...out.last!,
    timestamp: '2026-08-09T10:11:12',
    runId: '0f8e2b7c-4a51-4d2e-9c3b-6f1d0a9e8b21',
    os: 'Linux-6.1.0-18-amd64-x86_64-with-glibc2.36',
    nodeVersion: '20.20.2',
    trackerVersion: 'wattprint 0.1.0',
    cpuCount: 16,
    cpuModel: 'AMD EPYC 7313P 16-Core Processor',
  };
  return { data, ctx: { phase: 'stop', onCsvWrite: 'append' } };
}

describe('the examples in docs/reporters.md are what the reporters write', () => {
  it('emissions.jsonl', async () => {
    const { data, ctx } = await exampleData();
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-doc-json-'));
    await jsonReporter({ outputDir: dir }).report(data, ctx);
    const line = readFileSync(join(dir, 'emissions.jsonl'), 'utf8').trimEnd();
    expect(line.split('\n')).toHaveLength(1);
    const written = JSON.parse(line);
    const { inDoc, generated } = docSection(join(ROOT, 'docs/reporters.md'), 'jsonl-example', ['```json', JSON.stringify(written, null, 2), '```'].join('\n'));
    expect(inDoc).toBe(generated);
    expect(JSON.parse(inDoc.replace(/^```json\n|```\n$/g, ''))).toEqual(written);
  });

  it('emissions.csv', async () => {
    const { data, ctx } = await exampleData();
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-doc-csv-'));
    await csvReporter({ outputDir: dir }).report(data, ctx);
    const text = readFileSync(join(dir, 'emissions.csv'), 'utf8');
    const { inDoc, generated } = docSection(join(ROOT, 'docs/reporters.md'), 'csv-example', ['```csv', text.trimEnd(), '```'].join('\n'));
    expect(inDoc).toBe(generated);
  });
});
