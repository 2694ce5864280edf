import { createSink, LlmCall, type LlmInstrumentOptions } from './record.js';

type Obj = Record<string, any>;

/**
 * The Vercel AI SDK's language-model middleware shape (`LanguageModelV3Middleware` of `ai` 6), kept
 * structural so `ai` stays an optional peer.
 */
export interface WattprintLanguageModelMiddleware {
  readonly specificationVersion: 'v3';
  wrapGenerate(options: { doGenerate: () => PromiseLike<any>; model: { provider: string; modelId: string } }): Promise<any>;
  wrapStream(options: { doStream: () => PromiseLike<any>; model: { provider: string; modelId: string } }): Promise<any>;
}

/** 'openai.chat' -> 'openai', 'anthropic.messages' -> 'anthropic', 'google.generative-ai' -> 'google'. */
const providerOf = (model: { provider?: unknown }) => (typeof model.provider === 'string' ? model.provider.split('.')[0]! : 'unknown');

/** Usage of LanguageModelV3 (`{ inputTokens: { total }, outputTokens: { total } }`) or V2 (numbers). */
function usage(call: LlmCall, u: Obj | undefined): void {
  if (!u) return;
  const n = (v: any) => (typeof v === 'number' ? v : v?.total);
  call.usage(n(u.inputTokens), n(u.outputTokens));
}

const safely = (fn: () => void) => {
  try {
    fn();
  } catch {
    // An unexpected part shape costs its token counts, never the caller's stream.
  }
};

function observeParts(source: ReadableStream<Obj>, call: LlmCall): ReadableStream<Obj> {
  const reader = source.getReader();
  let streamError: unknown;
  const onPart = (p: Obj) => {
    switch (p.type) {
      case 'text-delta':
      case 'reasoning-delta':
      case 'tool-input-delta':
        // An empty delta (a provider's role-only first chunk) is not a token.
        if (p.delta) call.chunk();
        break;
      case 'response-metadata':
        if (typeof p.modelId === 'string') call.responseModel = p.modelId;
        break;
      case 'finish':
        usage(call, p.usage);
        break;
      case 'error':
        streamError ??= p.error;
        break;
    }
  };
  return new ReadableStream<Obj>({
    async pull(controller) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (e) {
        call.fail(e);
        controller.error(e);
        return;
      }
      if (r.done) {
        if (streamError === undefined) call.ok();
        else call.fail(streamError);
        controller.close();
        return;
      }
      safely(() => onPart(r.value));
      controller.enqueue(r.value);
    },
    cancel(reason) {
      call.abandoned();
      return reader.cancel(reason);
    },
  });
}

/**
 * Middleware for the Vercel AI SDK (`ai` 6): `wrapLanguageModel({ model, middleware:
 * wattprintMiddleware({ tracker }) })`. Every `generateText`/`streamText` (and the object
 * variants) call of the wrapped model emits the tracker's `'llm'` event: usage from the result or
 * the stream's `finish` part, else counted text deltas; failed and aborted calls too. The
 * provider is the model's (`openai.chat` -> `openai`).
 *
 * @example
 * import { wrapLanguageModel, generateText } from 'ai';
 * import { openai } from '@ai-sdk/openai';
 * const model = wrapLanguageModel({ model: openai('gpt-4o-mini'), middleware: wattprintMiddleware({ tracker }) });
 */
export function wattprintMiddleware(options: LlmInstrumentOptions): WattprintLanguageModelMiddleware {
  const sink = createSink(options, 'wattprintMiddleware');
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate, model }) {
      const call = new LlmCall(sink, providerOf(model), model.modelId, false);
      let result: Obj;
      try {
        result = await doGenerate();
      } catch (e) {
        call.fail(e);
        throw e;
      }
      safely(() => {
        if (typeof result.response?.modelId === 'string') call.responseModel = result.response.modelId;
        usage(call, result.usage);
      });
      call.ok();
      return result;
    },
    async wrapStream({ doStream, model }) {
      const call = new LlmCall(sink, providerOf(model), model.modelId, true);
      let result: Obj;
      try {
        result = await doStream();
      } catch (e) {
        call.fail(e);
        throw e;
      }
      if (!(result?.stream instanceof ReadableStream)) {
        call.ok();
        return result;
      }
      return { ...result, stream: observeParts(result.stream, call) };
    },
  };
}
