// A local OpenAI Chat Completions server for test/bench/llm.mjs, run as a child process so its CPU
// time is not the client's. Whole responses and SSE streams (10 chunks + the usage chunk).
const http = require('node:http');
const base = { id: 'chatcmpl-1', object: 'chat.completion', created: 1764800000, model: 'gpt-4o-mini-2024-07-18' };
const whole = JSON.stringify({
  ...base,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 100, total_tokens: 112 },
});
const chunk = (delta, finish) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const streamBody =
  chunk({ role: 'assistant', content: '' }, null) +
  Array.from({ length: 10 }, (_, i) => chunk({ content: `t${i} ` }, null)).join('') +
  chunk({}, 'stop') +
  `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 12, completion_tokens: 100, total_tokens: 112 } })}\n\n` +
  'data: [DONE]\n\n';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (JSON.parse(body).stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(streamBody);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(whole);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
process.on('disconnect', () => process.exit(0));
