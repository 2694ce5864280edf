// Compiled with `tsc --noEmit` (strict) by types.test.ts: what users write must type-check, and
// each `@ts-expect-error` line must be an error.
import { EmissionsTracker, trackEmissions } from '../../src/index.js';

// An SDK shaped like OpenAI's: `create` is overloaded on `stream`.
interface ChatCompletion {
  usage: { prompt_tokens: number; completion_tokens: number };
  choices: string[];
}
interface Chunk {
  delta: string;
}
interface Params {
  model: string;
  messages: string[];
  stream?: boolean | null;
}
declare const openai: {
  chat: {
    completions: {
      create(body: Params & { stream?: false | null }): Promise<ChatCompletion>;
      create(body: Params & { stream: true }): Promise<AsyncIterable<Chunk>>;
    };
  };
};

const tracker = new EmissionsTracker();

// docs/inference.md: an unannotated handler; `res` is the awaited result.
const complete = tracker.wrap((req) => openai.chat.completions.create(req), {
  name: 'chat',
  tokens: (res) => ({ inputTokens: res.usage.prompt_tokens, outputTokens: res.usage.completion_tokens }),
});
const done: Promise<ChatCompletion> = complete({ model: 'm', messages: [] });

// Annotated parameters are kept, and `tokens` sees them.
const generate = tracker.wrap(async (prompt: string, n: number) => prompt.repeat(n), {
  name: 'generate',
  tokens: (out, [prompt]) => ({ inputTokens: prompt.length, outputTokens: out.length }),
});
const text: Promise<string> = generate('a', 2);
// @ts-expect-error the first parameter is a string
void generate(1, 2);
tracker.wrap(async (prompt: string) => prompt, {
  name: 'bad',
  // @ts-expect-error the result is a string, which has no `usage`
  tokens: (out) => ({ outputTokens: out.usage }),
});

// Streams: `streamTokens` gets the summary.
const stream = tracker.wrap((req: Params & { stream: true }) => openai.chat.completions.create(req), {
  name: 'stream',
  streamTokens: (s) => ({ outputTokens: s.chunks ?? 0 }),
});
void stream;

// `this` passes through: a wrapper stored as a method keeps its receiver's type.
class Client {
  k = 1;
  add(x: number): number {
    return x + this.k;
  }
}
const client = new Client();
client.add = tracker.wrap(client.add, { name: 'add' });
const sum: number = client.add(1);
const detached = tracker.wrap(Client.prototype.add.bind(client), { name: 'bound' });
const sum2: number = detached(2);

// The decorator's `tokens` gets the method's result type when given as the type argument.
class Model {
  @trackEmissions<ChatCompletion>({ tracker, name: 'gen', tokens: (r) => ({ outputTokens: r.usage.completion_tokens }) })
  async gen(prompt: string): Promise<ChatCompletion> {
    return { usage: { prompt_tokens: prompt.length, completion_tokens: 1 }, choices: [] };
  }

  // @ts-expect-error the method does not return a ChatCompletion
  @trackEmissions<ChatCompletion>({ tracker, tokens: (r) => ({ outputTokens: r.usage.completion_tokens }) })
  async other(): Promise<string> {
    return '';
  }
}

export { done, text, sum, sum2, Model };
