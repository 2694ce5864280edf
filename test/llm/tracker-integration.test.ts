import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker, CSV_COLUMNS, type CallRecord } from '../../src/index.js';
import { instrumentOpenAI, type LlmCallRecord } from '../../src/llm/index.js';
import { FakePowerSource } from '../../src/testing/index.js';
import { SECRET_KEY, useFakeApi } from './fake-apis.js';

const fake = useFakeApi();

const schema = JSON.parse(readFileSync(new URL('../../docs/report-schema.json', import.meta.url), 'utf8'));

describe('remote estimates inside wrapped handlers (tracker.wrap)', () => {
  for (const attribution of ['work', 'time'] as const)
  it(`attribution '${attribution}': the CallRecord, callStats, the run report and the JSONL carry the sum of the call’s LLM requests, apart from measured energy; the CSV keeps its columns`, async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'wattprint-llm-'));
    const tracker = new EmissionsTracker({
      sources: { cpu: [new FakePowerSource({ component: 'cpu', powerW: 30 })], gpu: [], ram: [] },
      outputDir,
      saveToJson: true,
      handleSignals: false,
      native: false,
      forceCarbonIntensityGPerKWh: 300,
      projectName: 'llm-integration',
      attribution,
    });
    tracker.on('warning', () => {});
    const llm: LlmCallRecord[] = [];
    const calls: CallRecord[] = [];
    tracker.on('llm', (r) => llm.push(r));
    tracker.on('call', (r) => calls.push(r));
    const openai = instrumentOpenAI(new OpenAI({ apiKey: SECRET_KEY, baseURL: `${fake.api.url}/v1`, maxRetries: 0 }), { tracker });
    tracker.start();

    const handler = tracker.wrap(
      async (q: string) => {
        fake.api.next = { outputTokens: 120, inputTokens: 3 };
        const a = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] });
        fake.api.next = { chunks: ['x', 'y', 'z'], outputTokens: 80 };
        const s = await openai.chat.completions.create({ model: 'gpt-4o', messages: [], stream: true, stream_options: { include_usage: true } });
        for await (const _ of s);
        return a.choices[0]!.message.content;
      },
      { name: 'answer' },
    );
    expect(await tracker.withLabels({ tenant: 'acme' }, () => handler('hi'))).toBe('Hello world!');
    // Outside any wrapped call: the run's total only.
    fake.api.next = { outputTokens: 10 };
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [] });
    // A wrapped call without LLM requests has no remoteEstimate.
    await tracker.wrap(async () => 1, { name: 'local' })();

    const stats = tracker.callStats('answer');
    const data = await tracker.stop();

    expect(llm).toHaveLength(3);
    const [a, b, outside] = llm as [LlmCallRecord, LlmCallRecord, LlmCallRecord];
    const answer = calls.find((c) => c.name === 'answer')!;
    // Records made under withLabels carry its labels.
    expect(a.labels).toEqual({ tenant: 'acme' });
    expect(outside.labels).toEqual({});
    const sum = (k: 'energyKWh' | 'gwpKg' | 'waterL', bound: 'min' | 'max') => a.estimate![k][bound] + b.estimate![k][bound];
    expect(answer.remoteEstimate).toMatchObject({ requests: 2, unestimated: 0, outputTokens: 200 });
    for (const k of ['energyKWh', 'gwpKg', 'waterL'] as const)
      for (const bound of ['min', 'max'] as const) expect(answer.remoteEstimate![k][bound]).toBeCloseTo(sum(k, bound), 15);
    // Measured energy stays the local machine's: the remote estimate is not in it.
    expect(answer.energyJ).toBeLessThan(answer.remoteEstimate!.energyKWh.min * 3.6e6);
    expect(calls.find((c) => c.name === 'local')!.remoteEstimate).toBeUndefined();
    expect(stats.remoteEstimate).toMatchObject({ requests: 2, outputTokens: 200 });
    expect(tracker.callStats().remoteEstimate!.requests).toBe(2);

    // The run's total includes the request made outside any call.
    expect(data.remoteEstimate!.requests).toBe(3);
    expect(data.remoteEstimate!.energyKWh.max).toBeCloseTo(sum('energyKWh', 'max') + outside.estimate!.energyKWh.max, 15);

    const report = await tracker.report();
    expect(report.results.calls.remoteEstimate!.requests).toBe(2);
    expect(report.results.byName.find((n) => n.name === 'answer')!.remoteEstimate!.outputTokens).toBe(200);
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const validate = ajv.compile(schema);
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);

    const files = readdirSync(outputDir);
    const jsonl = readFileSync(join(outputDir, 'emissions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl.at(-1).remote_llm_estimate).toMatchObject({ requests: 3, output_tokens: 210 });
    expect(jsonl.at(-1).remote_llm_estimate.energy_kwh.min).toBeCloseTo(data.remoteEstimate!.energyKWh.min, 15);
    const csv = readFileSync(join(outputDir, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(csv[0]!.split(',')).toEqual([...CSV_COLUMNS]);
    expect(CSV_COLUMNS).toHaveLength(38);
    // The key reaches the server, and nothing wattprint wrote.
    for (const f of files) expect(readFileSync(join(outputDir, f), 'utf8'), f).not.toContain(SECRET_KEY);
    expect(JSON.stringify({ llm, calls, report, data })).not.toContain(SECRET_KEY);
  });
});
