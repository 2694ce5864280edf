import { invalidOption } from '../errors.js';
import { createSink, type LlmInstrumentOptions } from './record.js';
import { patchCreate, type ResponseAdapter } from './stainless.js';

type Obj = Record<string, any>;

/** Input tokens of a Messages API usage object: cache reads and writes are input too. */
const input = (u: Obj) =>
  typeof u.input_tokens === 'number' ? u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) : undefined;

export const anthropicAdapter: ResponseAdapter = {
  provider: 'anthropic',
  onResult(call, data) {
    const d = data as Obj;
    if (typeof d?.model === 'string') call.responseModel = d.model;
    if (d?.usage) call.usage(input(d.usage), d.usage.output_tokens);
  },
  onEvent(call, event) {
    const e = event as Obj;
    switch (e?.type) {
      case 'message_start':
        if (typeof e.message?.model === 'string') call.responseModel = e.message.model;
        // Its output_tokens is a start value that message_delta's cumulative count replaces: not used.
        if (e.message?.usage) call.usage(input(e.message.usage), undefined);
        break;
      case 'content_block_delta':
        call.chunk();
        break;
      case 'message_delta':
        // Cumulative: the last one is the total.
        if (e.usage) call.usage(input(e.usage), e.usage.output_tokens);
        break;
    }
  },
};

/**
 * Instruments an `@anthropic-ai/sdk` client in place and returns it: every `messages.create` call
 * (and `messages.stream()`, which is built on it; `beta.messages.create` too) emits the tracker's
 * `'llm'` event when it ends. Streams take the output tokens from the last `message_delta` (a
 * cumulative count), else count `content_block_delta` events. Failed and aborted calls are recorded
 * too. Nothing of the client's credentials is read.
 *
 * @example
 * import Anthropic from '@anthropic-ai/sdk';
 * const anthropic = instrumentAnthropic(new Anthropic(), { tracker });
 */
export function instrumentAnthropic<C extends object>(client: C, options: LlmInstrumentOptions): C {
  const sink = createSink(options, 'instrumentAnthropic');
  const c = client as Obj;
  if (!c || typeof c.messages?.create !== 'function')
    throw invalidOption('client', 'instrumentAnthropic(client, …) expects an `@anthropic-ai/sdk` client (new Anthropic()), which has messages.create');
  patchCreate(c.messages, 'create', anthropicAdapter, sink);
  patchCreate(c.beta?.messages, 'create', anthropicAdapter, sink);
  return client;
}
