// Run by ServeReply.OpenAINodeClientAssemblesTheReply (test_serve_reply.cpp): serves two recorded chat
// responses of lmgen's serve/reply (the whole JSON object, and the server-sent events of the same reply) to the
// real `openai` npm client, and prints what the client made of them as one JSON line. Usage:
//   node openai_replay.mjs WHOLE.json STREAM.sse
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import OpenAI from 'openai';

const [wholeFile, streamFile] = process.argv.slice(2);
const whole = readFileSync(wholeFile, 'utf8');
const sse = readFileSync(streamFile, 'utf8');

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const stream = JSON.parse(body).stream === true;
    res.writeHead(200, { 'Content-Type': stream ? 'text/event-stream' : 'application/json' });
    res.end(stream ? sse : whole);
  });
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const client = new OpenAI({
  baseURL: `http://127.0.0.1:${server.address().port}/v1`, apiKey: 'k', maxRetries: 0, timeout: 30000,
});
const request = { model: 'any', messages: [{ role: 'user', content: 'Weather in Paris?' }] };
const out = {};

const c = await client.chat.completions.create(request);
out.whole = { message: c.choices[0].message, finish: c.choices[0].finish_reason };

// The library's own accumulation of the stream (what agents built on it see).
const runner = client.beta.chat.completions.stream(request);
const final = await runner.finalChatCompletion();
out.stream_helper = { message: final.choices[0].message, finish: final.choices[0].finish_reason };

// The chunks as an application reads them: deltas of content, reasoning_content and tool_calls by index.
const acc = { content: '', reasoning_content: '', tool_calls: [] };
let finish = null;
for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
  const choice = chunk.choices[0];
  if (!choice) continue;
  const d = choice.delta ?? {};
  acc.content += d.content ?? '';
  acc.reasoning_content += d.reasoning_content ?? '';
  for (const t of d.tool_calls ?? []) {
    acc.tool_calls[t.index] ??= { id: '', name: '', arguments: '' };
    const slot = acc.tool_calls[t.index];
    if (t.id) slot.id = t.id;
    if (t.function?.name) slot.name += t.function.name;
    slot.arguments += t.function?.arguments ?? '';
  }
  if (choice.finish_reason) finish = choice.finish_reason;
}
out.stream = { ...acc, finish };
server.close();
console.log(JSON.stringify(out));
