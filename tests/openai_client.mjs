// Run by ServeOpenAI.NodeClient (test_serve_openai.cpp): drives `lmgen serve` through the real `openai` npm
// package (installed by tools/npm_openai.sh) and prints what it got as one JSON line. Usage:
//   node openai_client.mjs BASE_URL API_KEY
import OpenAI from 'openai';

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30000 });
const out = {};

const c = await client.completions.create({
  model: 'any', prompt: 'Hello world', max_tokens: 8, temperature: 0, logprobs: 2,
});
out.completion = {
  text: c.choices[0].text, finish: c.choices[0].finish_reason, usage: c.usage,
  n_logprobs: c.choices[0].logprobs.token_logprobs.length, n_top: Object.keys(c.choices[0].logprobs.top_logprobs[0]).length,
};

const e = await client.completions.create({
  model: 'any', prompt: 'Hello world, hello', max_tokens: 0, echo: true, logprobs: 0, temperature: 0,
});
out.echo = { text: e.choices[0].text, token_logprobs: e.choices[0].logprobs.token_logprobs, usage: e.usage };

let streamed = '';
for await (const chunk of await client.completions.create({
  model: 'any', prompt: 'Hello world', max_tokens: 8, temperature: 0, stream: true,
})) streamed += chunk.choices[0]?.text ?? '';
out.completion_stream = streamed;

const messages = [{ role: 'user', content: 'Hello there' }];
const chat = await client.chat.completions.create({
  model: 'any', messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 2,
});
out.chat = {
  content: chat.choices[0].message.content, role: chat.choices[0].message.role, finish: chat.choices[0].finish_reason,
  n_logprobs: chat.choices[0].logprobs.content.length, usage: chat.usage,
  top: chat.choices[0].logprobs.content[0].top_logprobs.length,
};

let chatStreamed = '';
let lastFinish = null;
let usage = null;
for await (const chunk of await client.chat.completions.create({
  model: 'any', messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
})) {
  if (chunk.usage) usage = chunk.usage;
  if (!chunk.choices.length) continue;
  chatStreamed += chunk.choices[0].delta?.content ?? '';
  if (chunk.choices[0].finish_reason) lastFinish = chunk.choices[0].finish_reason;
}
out.chat_stream = { content: chatStreamed, finish: lastFinish, usage };

// Structured output: response_format json_schema at temperature 1, several seeds.
const schema = {
  type: 'object', properties: { city: { type: 'string', maxLength: 12 }, n: { type: 'integer', minimum: 0, maximum: 9 } },
  required: ['city', 'n'],
};
out.structured = [];
for (const seed of [1, 2, 3, 4]) {
  const r = await client.chat.completions.create({
    model: 'any', messages, max_tokens: 150, temperature: 1, seed,
    response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } },
  });
  out.structured.push({ content: r.choices[0].message.content, finish: r.choices[0].finish_reason });
}

out.models = (await client.models.list()).data.map((m) => m.id);

try {
  await new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 }).models.list();
  out.bad_key = 'no error';
} catch (err) {
  out.bad_key = err.status;
}
try {
  await client.completions.create({ model: 'any', prompt: 'x', max_tokens: -3 });
  out.bad_request = 'no error';
} catch (err) {
  out.bad_request = { status: err.status, type: err.error?.type ?? null };
}

console.log(JSON.stringify(out));
