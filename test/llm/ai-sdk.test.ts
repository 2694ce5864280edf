import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { describe, expect, it } from 'vitest';
import { wattprintMiddleware, type LlmCallRecord } from '../../src/llm/index.js';
import { SECRET_KEY, useFakeApi } from './fake-apis.js';

const fake = useFakeApi();

function setup() {
  const records: LlmCallRecord[] = [];
  const provider = createOpenAI({ apiKey: SECRET_KEY, baseURL: `${fake.api.url}/v1` });
  const model = wrapLanguageModel({ model: provider.chat('gpt-4o-mini'), middleware: wattprintMiddleware({ onRecord: (r) => records.push(r), labels: { route: '/chat' } }) });
  return { model, records };
}
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('wattprintMiddleware with the real ai SDK and @ai-sdk/openai against a local server', () => {
  it('generateText: usage from the result', async () => {
    const { model, records } = setup();
    fake.api.next = { inputTokens: 9, outputTokens: 77, responseModel: 'gpt-4o-mini-2024-07-18' };
    const r = await generateText({ model, prompt: 'hi', maxRetries: 0 });
    expect(r.text).toBe('Hello world!');
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', inputTokens: 9, outputTokens: 77, status: 'ok', stream: false, tokenSource: 'usage', labels: { route: '/chat' } });
    expect(records[0]!.estimate!.energyKWh.min).toBeGreaterThan(0);
  });

  it("streamText: usage from the stream's finish part", async () => {
    const { model, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd'], inputTokens: 2, outputTokens: 30 };
    const s = streamText({ model, prompt: 'hi', maxRetries: 0 });
    let text = '';
    for await (const t of s.textStream) text += t;
    expect(text).toBe('abcd');
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ stream: true, status: 'ok', tokenSource: 'usage', outputTokens: 30 });
    // The AI SDK asks for the usage chunk itself.
    expect(fake.api.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  it('an HTTP error is recorded (and thrown to the caller) without the key', async () => {
    const { model, records } = setup();
    fake.api.next = { status: 500 };
    await expect(generateText({ model, prompt: 'hi', maxRetries: 0 })).rejects.toThrow();
    await settle();
    expect(records.map((r) => [r.status, r.error?.httpStatus])).toEqual([['error', 500]]);
    expect(records[0]!.error!.name).toBe('APICallError');
    expect(JSON.stringify(records)).not.toContain(SECRET_KEY);
  });

  it('an aborted stream is recorded as aborted with the deltas seen', async () => {
    const { model, records } = setup();
    fake.api.next = { chunks: ['a', 'b', 'c', 'd', 'e'], hangAfter: 2 };
    const ac = new AbortController();
    const s = streamText({ model, prompt: 'hi', maxRetries: 0, abortSignal: ac.signal, onError: () => {} });
    let n = 0;
    await (async () => {
      for await (const _ of s.textStream) if (++n === 2) ac.abort();
    })().catch(() => {});
    await settle();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'aborted', tokenSource: 'counted-chunks', outputTokens: 2 });
  });
});
