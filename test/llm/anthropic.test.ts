import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { instrumentAnthropic, type LlmCallRecord } from '../../src/llm/index.js';
import { SECRET_KEY, useFakeApi } from './fake-apis.js';

const fake = useFakeApi();

function setup() {
  const records: LlmCallRecord[] = [];
  const client = instrumentAnthropic(new Anthropic({ apiKey: SECRET_KEY, baseURL: fake.api.url, maxRetries: 0 }), { onRecord: (r) => records.push(r), zone: 'FRA' });
  return { client, records };
}
const settle = () => new Promise((r) => setImmediate(r));
const MODEL = 'claude-sonnet-4-5-20250929';

describe('instrumentAnthropic with the real @anthropic-ai/sdk against a local server', () => {
  it('records a message with input tokens including cache reads and writes', async () => {
    const { client, records } = setup();
    fake.api.next = { inputTokens: 20, outputTokens: 150 };
    const msg = await client.messages.create({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello world!' });
    expect(JSON.stringify(fake.api.requests.at(-1)!.headers)).toContain(SECRET_KEY);
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ provider: 'anthropic', model: MODEL, inputTokens: 32, outputTokens: 150, status: 'ok', tokenSource: 'usage' });
    // The instrumentation's zone reaches the estimate; Anthropic's PUE range stays.
    expect(records[0]!.estimate!.inputs).toMatchObject({ zone: 'FRA', pue: { min: 1.09, max: 1.14 } });
  });

  it("streams: message_delta's cumulative count is the total (message_start's is not added)", async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c'], inputTokens: 8, outputTokens: 37 };
    const stream = await client.messages.create({ model: MODEL, max_tokens: 100, messages: [], stream: true });
    let events = 0;
    for await (const _ of stream) events++;
    expect(events).toBeGreaterThan(5);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ stream: true, status: 'ok', tokenSource: 'usage', outputTokens: 37, inputTokens: 20 });
  });

  it('the messages.stream() helper is recorded once', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['x', 'y'], outputTokens: 11 };
    const final = await client.messages.stream({ model: MODEL, max_tokens: 100, messages: [] }).finalMessage();
    expect(final.usage.output_tokens).toBe(11);
    await settle();
    expect(records.map((r) => [r.outputTokens, r.tokenSource])).toEqual([[11, 'usage']]);
  });

  it('a stream cut by an AbortController before message_delta: counted content deltas', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd'], hangAfter: 2, outputTokens: 50 };
    const ac = new AbortController();
    const stream = await client.messages.create({ model: MODEL, max_tokens: 100, messages: [], stream: true }, { signal: ac.signal });
    let deltas = 0;
    await (async () => {
      for await (const e of stream) if (e.type === 'content_block_delta' && ++deltas === 2) ac.abort();
    })().catch(() => {});
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'aborted', tokenSource: 'counted-chunks', outputTokens: 2, inputTokens: 12 });
  });

  it('4xx and 5xx errors are recorded without the key', async () => {
    const { client, records } = setup();
    for (const status of [401, 529]) {
      fake.api.next = { status };
      const err = await client.messages.create({ model: MODEL, max_tokens: 10, messages: [] }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(err.status).toBe(status);
    }
    await settle();
    expect(records.map((r) => [r.status, r.error?.httpStatus])).toEqual([
      ['error', 401],
      ['error', 529],
    ]);
    expect(JSON.stringify(records)).not.toContain(SECRET_KEY);
  });
});
