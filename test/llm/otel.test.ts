import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentOpenAI, type LlmCallRecord } from '../../src/llm/index.js';
import { SECRET_KEY, useFakeApi } from './fake-apis.js';

/** The smallest real context manager (what @opentelemetry/context-async-hooks does), so spans are active across awaits. */
class AlsContextManager implements ContextManager {
  private als = new AsyncLocalStorage<Context>();
  active = () => this.als.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable = () => this;
  disable = () => this;
}

const fake = useFakeApi();
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
beforeAll(() => {
  context.setGlobalContextManager(new AlsContextManager());
  trace.setGlobalTracerProvider(provider);
});
afterAll(() => {
  trace.disable();
  context.disable();
});

describe('OpenTelemetry: wattprint.* attributes on the active GenAI span', () => {
  it('sums every request made under the span', async () => {
    const records: LlmCallRecord[] = [];
    const client = instrumentOpenAI(new OpenAI({ apiKey: SECRET_KEY, baseURL: `${fake.api.url}/v1`, maxRetries: 0 }), { onRecord: (r) => records.push(r) });
    fake.api.next = { inputTokens: 5, outputTokens: 100 };
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('chat gpt-4o-mini', async (span) => {
      span.setAttributes({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.operation.name': 'chat' });
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] });
      const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
      span.end();
    });
    // A call outside any span annotates nothing.
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] });
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const a = spans[0]!.attributes;
    expect(a['gen_ai.provider.name']).toBe('openai');
    expect(a['wattprint.llm.requests']).toBe(2);
    expect(a['wattprint.llm.output_tokens']).toBe(200);
    expect(a['wattprint.llm.estimated']).toBe(true);
    const sum = (k: 'min' | 'max') => records[0]!.estimate!.energyKWh[k] + records[1]!.estimate!.energyKWh[k];
    expect(a['wattprint.llm.energy_kwh.min']).toBeCloseTo(sum('min'), 15);
    expect(a['wattprint.llm.energy_kwh.max']).toBeCloseTo(sum('max'), 15);
    expect(a['wattprint.llm.method']).toMatch(/^ecologits-0\.11 formulas/);
    expect(JSON.stringify(a)).not.toContain(SECRET_KEY);
  });
});
