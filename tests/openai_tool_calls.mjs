// Run by ServeToolCalls.* (test_serve_tool_calls.cpp): forced tool calls (tool_choice "required" and a named
// function) through the real `openai` npm client, sampled freely (temperature 1, no logit_bias) on a random-weight
// fixture, whole and streamed (the stream's tool-call deltas put together as a client does), then a second turn
// with the call and the tool's results. Prints one JSON line: the tools and every reply's calls, for the test to
// validate against the schemas. Usage:
//   node openai_tool_calls.mjs BASE_URL SEED[,SEED...]
import OpenAI from 'openai';

const [baseURL, seedList] = process.argv.slice(2);
const seeds = seedList.split(',').map(Number);
const client = new OpenAI({ baseURL, apiKey: 'k', maxRetries: 0, timeout: 120000 });
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'The forecast for a place',
    parameters: { type: 'object', properties: {
      location: { type: 'object', properties: {
        city: { type: 'string', maxLength: 12 }, country: { type: 'string', maxLength: 12 } }, required: ['city'] },
      unit: { enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maximum: 10 } },
    required: ['location', 'unit', 'days'], additionalProperties: false } } },
  { type: 'function', function: { name: 'book_table', description: 'Book a table at a restaurant',
    parameters: { type: 'object', properties: {
      people: { type: 'integer', minimum: 1, maximum: 12 },
      time: { enum: ['18:00', '19:30'] },
      notes: { type: 'string', maxLength: 10 } },
    required: ['people', 'time'] } } },
];
const user = [{ role: 'user', content: 'Book a table for two, then tell me the weather in Oslo.' }];
const named = { type: 'function', function: { name: 'book_table' } };

function calls(list) {
  return (list ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
}

async function both(request) {
  const c = await client.chat.completions.create(request);
  const m = c.choices[0].message;
  const whole = { content: m.content, calls: calls(m.tool_calls), finish: c.choices[0].finish_reason,
    prompt_tokens: c.usage.prompt_tokens, message: m };
  const byIndex = [];
  let content = '';
  let finish = null;
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta?.content ?? '';
    for (const t of choice.delta?.tool_calls ?? []) {
      byIndex[t.index] ??= { id: '', type: '', function: { name: '', arguments: '' } };
      const acc = byIndex[t.index];
      if (t.id) acc.id = t.id;
      if (t.function?.name) acc.function.name += t.function.name;
      acc.function.arguments += t.function?.arguments ?? '';
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { whole, stream: { content, calls: calls(byIndex), finish } };
}

const out = { tools, runs: [] };
const base = { model: 'any', messages: user, tools, temperature: 1, max_tokens: 400 };
for (const seed of seeds) {
  for (const [kind, extra] of [['required', { tool_choice: 'required' }],
    ['required_one', { tool_choice: 'required', parallel_tool_calls: false }],
    ['named', { tool_choice: named, parallel_tool_calls: false }]]) {
    out.runs.push({ seed, kind, ...(await both({ ...base, ...extra, seed })) });
  }
}
// The second turn: the first reply's calls as the client got them, and a result for each.
const first = out.runs[0].whole;
const turn2 = [...user, first.message,
  ...first.message.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '{"ok": true}' }))];
const second = await client.chat.completions.create({ model: 'any', messages: turn2, tools, max_tokens: 8, seed: 1 });
out.second = { prompt_tokens: second.usage.prompt_tokens, first_prompt_tokens: first.prompt_tokens,
  finish: second.choices[0].finish_reason, has_message: typeof second.choices[0].message === 'object' };
for (const r of out.runs) delete r.whole.message;
console.log(JSON.stringify(out));
