// Local HTTP servers that speak the OpenAI (Chat Completions, Responses) and Anthropic (Messages)
// wire formats, JSON and SSE, so the real SDKs can be pointed at them: no test touches the network.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export const SECRET_KEY = 'sk-test-THIS-KEY-MUST-NEVER-LEAK-0123456789abcdef';

/** What the next request gets. */
export interface Behaviour {
  /** An HTTP error status with the provider's error body (which, like OpenAI's 401, quotes the key). */
  status?: number;
  /** Content chunks to stream (or the text of a whole response, joined). */
  chunks?: string[];
  /** Usage to report; `undefined` fields are left out. */
  inputTokens?: number;
  outputTokens?: number;
  /** The model the response names (default: the one requested). */
  responseModel?: string;
  /** Stop after this many chunks and hold the connection open (for aborts). */
  hangAfter?: number;
  /** Hold the response before the headers (for aborts before any byte). */
  hangBeforeHeaders?: boolean;
  /** Delay between streamed chunks, ms. */
  chunkDelayMs?: number;
}

export interface FakeApi {
  readonly url: string;
  next: Behaviour;
  readonly requests: Array<{ path: string; body: any; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBody(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return parts.length ? JSON.parse(Buffer.concat(parts).toString('utf8')) : undefined;
}

function sse(res: ServerResponse): (data: unknown, event?: string) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  return (data, event) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

async function openaiChat(body: any, b: Behaviour, res: ServerResponse): Promise<void> {
  const model = b.responseModel ?? body.model;
  const chunks = b.chunks ?? ['Hello', ' world', '!'];
  const usage =
    b.outputTokens === undefined ? undefined : { prompt_tokens: b.inputTokens ?? 0, completion_tokens: b.outputTokens, total_tokens: (b.inputTokens ?? 0) + b.outputTokens };
  const base = { id: 'chatcmpl-1', created: 1764800000, model, system_fingerprint: 'fp_1' };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', 'openai-processing-ms': '120' });
    res.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: chunks.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
        ...(usage ? { usage } : {}),
      }),
    );
    return;
  }
  const send = sse(res);
  const chunk = (delta: object, finish: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  send(chunk({ role: 'assistant', content: '' }, null));
  for (const [i, c] of chunks.entries()) {
    if (b.hangAfter !== undefined && i >= b.hangAfter) return; // the client aborts
    send(chunk({ content: c }, null));
    if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
  }
  send(chunk({}, 'stop'));
  if (body.stream_options?.include_usage) send({ ...base, object: 'chat.completion.chunk', choices: [], usage: usage ?? null });
  send('[DONE]');
  res.end();
}

async function openaiResponses(body: any, b: Behaviour, res: ServerResponse): Promise<void> {
  const model = b.responseModel ?? body.model;
  const chunks = b.chunks ?? ['Hello', ' world'];
  const usage = { input_tokens: b.inputTokens ?? 0, output_tokens: b.outputTokens ?? 0, total_tokens: (b.inputTokens ?? 0) + (b.outputTokens ?? 0) };
  const response = (status: string, withUsage: boolean) => ({
    id: 'resp_1',
    object: 'response',
    created_at: 1764800000,
    status,
    model,
    output: status === 'completed' ? [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: chunks.join(''), annotations: [] }] }] : [],
    usage: withUsage ? usage : null,
  });
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(response('completed', true)));
    return;
  }
  const send = sse(res);
  let seq = 0;
  send({ type: 'response.created', sequence_number: seq++, response: response('in_progress', false) }, 'response.created');
  for (const c of chunks) send({ type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta: c }, 'response.output_text.delta');
  send({ type: 'response.completed', sequence_number: seq++, response: response('completed', true) }, 'response.completed');
  res.end();
}

async function anthropicMessages(body: any, b: Behaviour, res: ServerResponse): Promise<void> {
  const model = b.responseModel ?? body.model;
  const chunks = b.chunks ?? ['Hello', ' world', '!'];
  const usage = { input_tokens: b.inputTokens ?? 0, output_tokens: b.outputTokens ?? 0, cache_creation_input_tokens: 5, cache_read_input_tokens: 7 };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_1' });
    res.end(
      JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: chunks.join('') }], stop_reason: 'end_turn', stop_sequence: null, usage }),
    );
    return;
  }
  const send = sse(res);
  send(
    { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } },
    'message_start',
  );
  send({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
  send({ type: 'ping' }, 'ping');
  for (const [i, c] of chunks.entries()) {
    if (b.hangAfter !== undefined && i >= b.hangAfter) return;
    send({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: c } }, 'content_block_delta');
    if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
  }
  send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
  // Cumulative output tokens: two message_delta events, the last one is the total.
  if (b.outputTokens !== undefined) {
    send({ type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: Math.max(1, b.outputTokens - 10) } }, 'message_delta');
    send({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: b.outputTokens } }, 'message_delta');
  }
  send({ type: 'message_stop' }, 'message_stop');
  res.end();
}

function error(path: string, status: number, res: ServerResponse): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
  if (path.startsWith('/v1/messages'))
    res.end(JSON.stringify({ type: 'error', error: { type: status === 401 ? 'authentication_error' : 'overloaded_error', message: `invalid x-api-key ${SECRET_KEY}` } }));
  else
    res.end(
      JSON.stringify({
        error: { message: `Incorrect API key provided: ${SECRET_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      }),
    );
}

export async function startFakeApi(): Promise<FakeApi> {
  const requests: FakeApi['requests'] = [];
  const open = new Set<ServerResponse>();
  const api = { next: {} as Behaviour, requests } as FakeApi & { next: Behaviour };
  const server: Server = createServer(async (req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    const body = await readBody(req);
    const path = req.url ?? '';
    requests.push({ path, body, headers: req.headers });
    const b = api.next;
    if (b.hangBeforeHeaders) return;
    if (b.status) return error(path, b.status, res);
    if (path === '/v1/chat/completions') return openaiChat(body, b, res);
    if (path === '/v1/responses') return openaiResponses(body, b, res);
    if (path === '/v1/messages') return anthropicMessages(body, b, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.close(() => r());
      }),
  });
}

/** Starts a fake API for the test file (closed after it) and resets `next` before each test. */
export function useFakeApi(): { readonly api: FakeApi } {
  const holder = {} as { api: FakeApi };
  beforeAll(async () => {
    holder.api = await startFakeApi();
  });
  afterAll(() => holder.api.close());
  beforeEach(() => {
    holder.api.next = {};
  });
  return holder;
}
