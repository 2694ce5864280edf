import { invalidOption } from '../errors.js';
import { createSink, type LlmCall, type LlmInstrumentOptions } from './record.js';
import { patchCreate, type ResponseAdapter } from './stainless.js';

type Obj = Record<string, any>;

/** Chat Completions, legacy Completions and Responses share the usage fields' two spellings. */
function usage(call: LlmCall, u: Obj | null | undefined): void {
  if (u) call.usage(u.prompt_tokens ?? u.input_tokens, u.completion_tokens ?? u.output_tokens);
}

export const openaiAdapter: ResponseAdapter = {
  provider: 'openai',
  onResult(call, data) {
    const d = data as Obj;
    if (typeof d?.model === 'string') call.responseModel = d.model;
    usage(call, d?.usage);
  },
  onEvent(call, event) {
    const e = event as Obj;
    if (typeof e?.type === 'string') {
      // Responses API events.
      if (e.type === 'response.output_text.delta' || e.type === 'response.refusal.delta' || e.type === 'response.function_call_arguments.delta') call.chunk();
      else if (e.response && (e.type === 'response.completed' || e.type === 'response.incomplete' || e.type === 'response.created')) {
        if (typeof e.response.model === 'string') call.responseModel = e.response.model;
        usage(call, e.response.usage);
      }
      return;
    }
    if (typeof e?.model === 'string') call.responseModel = e.model;
    // The last chunk carries usage when `stream_options: { include_usage: true }` was set.
    if (e?.usage) usage(call, e.usage);
    const c = e?.choices?.[0];
    if (c && (c.delta?.content || c.delta?.refusal || c.delta?.tool_calls || c.text)) call.chunk();
  },
};

/**
 * Instruments an `openai` client (tested with v6; any version whose methods return its `APIPromise`) in place and returns it: every `chat.completions.create`,
 * `responses.create` and `completions.create` call (and the helpers built on them, such as
 * `chat.completions.stream()` and `.parse()`) emits the tracker's `'llm'` event when it ends, with an
 * {@link LlmEstimate}. Streams are counted from the usage chunk when the request set
 * `stream_options: { include_usage: true }`, else one token per content chunk (`tokenSource` says
 * which). Failed and aborted calls are recorded too. Calls read with `.asResponse()` are not
 * recorded (their body is the caller's to read). Nothing of the client's credentials is read.
 *
 * @example
 * import OpenAI from 'openai';
 * import { instrumentOpenAI } from 'wattprint/llm';
 * const openai = instrumentOpenAI(new OpenAI(), { tracker });
 * tracker.on('llm', (r) => console.log(r.model, r.estimate?.energyKWh));
 */
export function instrumentOpenAI<C extends object>(client: C, options: LlmInstrumentOptions): C {
  const sink = createSink(options, 'instrumentOpenAI');
  const c = client as Obj;
  if (!c || typeof c.chat?.completions?.create !== 'function')
    throw invalidOption('client', 'instrumentOpenAI(client, …) expects an `openai` client (new OpenAI()), which has chat.completions.create');
  patchCreate(c.chat.completions, 'create', openaiAdapter, sink);
  patchCreate(c.responses, 'create', openaiAdapter, sink);
  patchCreate(c.completions, 'create', openaiAdapter, sink);
  return client;
}
