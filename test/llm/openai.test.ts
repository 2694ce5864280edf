import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker } from '../../src/index.js';
import { estimateLlmCall, instrumentOpenAI, type LlmCallRecord } from '../../src/llm/index.js';
import type { WattprintWarning } from '../../src/types.js';
import { SECRET_KEY, useFakeApi } from './fake-apis.js';

const fake = useFakeApi();

function setup(labels?: Record<string, string>) {
  const tracker = new EmissionsTracker({ saveToFile: false, handleSignals: false, native: false });
  const records: LlmCallRecord[] = [];
  const warnings: WattprintWarning[] = [];
  tracker.on('llm', (r) => records.push(r));
  tracker.on('warning', (w) => warnings.push(w));
  const client = instrumentOpenAI(new OpenAI({ apiKey: SECRET_KEY, baseURL: `${fake.api.url}/v1`, maxRetries: 0 }), { tracker, ...(labels ? { labels } : {}) });
  return { tracker, client, records, warnings };
}

/** Waits for the record of a call whose promise the test has already settled. */
const settle = () => new Promise((r) => setImmediate(r));


describe('instrumentOpenAI with the real openai SDK against a local server', () => {
  it('returns the same client and records a chat completion with the usage and the response model', async () => {
    const { client, records } = setup({ feature: 'chat' });
    fake.api.next = { inputTokens: 12, outputTokens: 321, responseModel: 'gpt-4o-mini-2024-07-18' };
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).toBe('Hello world!');
    expect(fake.api.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    await settle();
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', inputTokens: 12, outputTokens: 321, status: 'ok', stream: false, tokenSource: 'usage', labels: { feature: 'chat' } });
    expect(r.latencyS).toBeGreaterThan(0);
    expect(r.latencyS).toBeLessThan(5);
    // The estimate is the library's for these tokens and this latency.
    const want = estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', outputTokens: 321, latencyS: r.latencyS });
    expect(r.estimate!.energyKWh).toEqual(want.energyKWh);
    expect(r.estimate!.gwpKg.max).toBeGreaterThan(r.estimate!.gwpKg.min);
  });

  it('streams: the include_usage chunk gives the tokens', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd', 'e'], inputTokens: 3, outputTokens: 42 };
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('abcde');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ stream: true, status: 'ok', tokenSource: 'usage', outputTokens: 42, inputTokens: 3 });
  });

  it('streams without a usage chunk: counted chunks, and the record says so', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd', 'e'], outputTokens: 42 };
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true });
    for await (const _ of stream);
    expect(records[0]).toMatchObject({ status: 'ok', tokenSource: 'counted-chunks', outputTokens: 5, inputTokens: 0 });
    expect(records[0]!.estimate).not.toBeNull();
  });

  it('the stream() helper, built on create, is recorded once', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['x', 'y'], outputTokens: 9 };
    const s = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [], stream_options: { include_usage: true } });
    const done = await s.finalChatCompletion();
    expect(done.choices[0]!.message.content).toBe('xy');
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outputTokens: 9, tokenSource: 'usage' });
  });

  it('withResponse() still gives data and the raw response, and records', async () => {
    const { client, records } = setup();
    fake.api.next = { outputTokens: 7 };
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [] }).withResponse();
    expect(data.choices).toHaveLength(1);
    expect(response.headers.get('openai-processing-ms')).toBe('120');
    await settle();
    expect(records[0]).toMatchObject({ model: 'gpt-4o', outputTokens: 7 });
  });

  it('the Responses API, whole and streamed', async () => {
    const { client, records } = setup();
    fake.api.next = { inputTokens: 4, outputTokens: 17 };
    const r = await client.responses.create({ model: 'gpt-4.1-mini', input: 'hi' });
    expect(r.output_text).toBe('Hello world');
    const s = await client.responses.create({ model: 'gpt-4.1-mini', input: 'hi', stream: true });
    for await (const _ of s);
    await settle();
    expect(records.map((x) => [x.stream, x.outputTokens, x.inputTokens, x.tokenSource])).toEqual([
      [false, 17, 4, 'usage'],
      [true, 17, 4, 'usage'],
    ]);
  });

  it('4xx and 5xx: the caller gets the SDK error, the record has its status and never the key', async () => {
    const { client, records, warnings } = setup();
    fake.api.next = { status: 401 };
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(String(err.message)).toContain(SECRET_KEY); // the SDK's own message quotes it: ours must not
    fake.api.next = { status: 500 };
    const err500 = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true }).catch((e) => e);
    expect(err500).toBeInstanceOf(OpenAI.InternalServerError);
    await settle();
    expect(records.map((r) => [r.status, r.error, r.outputTokens])).toEqual([
      ['error', { name: 'AuthenticationError', httpStatus: 401 }, 0],
      ['error', { name: 'InternalServerError', httpStatus: 500 }, 0],
    ]);
    const everything = JSON.stringify({ records, warnings });
    expect(everything).not.toContain(SECRET_KEY);
    expect(everything).not.toContain('THIS-KEY');
  });

  it('an AbortController mid-stream: an aborted record with the chunks seen', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd', 'e'], hangAfter: 3 };
    const ac = new AbortController();
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true }, { signal: ac.signal });
    let n = 0;
    const read = (async () => {
      for await (const c of stream) if (c.choices[0]?.delta?.content) if (++n === 3) ac.abort();
    })();
    await read.catch(() => {});
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'aborted', tokenSource: 'counted-chunks', outputTokens: 3 });
    expect(records[0]!.estimate!.energyKWh.min).toBeGreaterThan(0);
  });

  it('an abort before the headers is recorded as aborted', async () => {
    const { client, records } = setup();
    fake.api.next = { hangBeforeHeaders: true };
    const ac = new AbortController();
    const p = client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(/abort/i);
    await settle();
    expect(records.map((r) => [r.status, r.error?.name, r.tokenSource])).toEqual([['aborted', 'APIUserAbortError', 'none']]);
  });

  it('a consumer that stops reading (break) ends the record as aborted', async () => {
    const { client, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd'] };
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true });
    for await (const c of stream) if (c.choices[0]?.delta?.content === 'b') break;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'aborted', outputTokens: 2, error: { name: 'StreamAbandoned' } });
  });

  it('an unknown model: the call goes through, the record has no estimate and says why, one warning', async () => {
    const { client, records, warnings } = setup();
    fake.api.next = { outputTokens: 5 };
    await client.chat.completions.create({ model: 'my-finetune-xyz', messages: [] });
    await client.chat.completions.create({ model: 'my-finetune-xyz', messages: [] });
    await settle();
    expect(records).toHaveLength(2);
    expect(records[0]!.estimate).toBeNull();
    expect(records[0]!.estimateError!.code).toBe('LLM_UNKNOWN_MODEL');
    expect(warnings.filter((w) => w.code === 'LLM_UNKNOWN_MODEL')).toHaveLength(1);
  });

  it('a throwing listener never reaches the caller', async () => {
    const { tracker, client, warnings } = setup();
    tracker.on('llm', () => {
      throw new Error('listener bug');
    });
    fake.api.next = { outputTokens: 5 };
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] });
    expect(res.choices).toHaveLength(1);
    await settle();
    expect(warnings.some((w) => w.code === 'LLM_LISTENER')).toBe(true);
  });

  it('rejects bad options at instrumentation time', () => {
    const openai = new OpenAI({ apiKey: SECRET_KEY, baseURL: `${fake.api.url}/v1` });
    expect(() => instrumentOpenAI(openai, {} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'tracker' }));
    expect(() => instrumentOpenAI({} as never, { onRecord: () => {} })).toThrow(expect.objectContaining({ option: 'client' }));
    // Twice is harmless: one record per call.
    const records: LlmCallRecord[] = [];
    instrumentOpenAI(openai, { onRecord: (r) => records.push(r) });
    instrumentOpenAI(openai, { onRecord: (r) => records.push(r) });
    expect(openai.chat.completions.create).toBeTypeOf('function');
  });
});
