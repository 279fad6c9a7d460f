// Run by ServeTools.* (test_serve_tools.cpp): drives `lmgen serve` through the real `openai` npm client with
// tools and thinking, on random-weight fixtures whose reply is forced with logit_bias, and prints what the client
// got as one JSON line. Usage:
//   node openai_tools.mjs BASE_URL think TOKEN_ID      (a thinking template: thinking on and off)
//   node openai_tools.mjs BASE_URL tools TOKEN_ID      (tools: a forced broken call, then a second turn)
import OpenAI from 'openai';

const [baseURL, scenario, token] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'k', maxRetries: 0, timeout: 60000 });
const bias = { [token]: 100 };
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const user = [{ role: 'user', content: 'What is the weather in Paris?' }];

async function both(request) {
  const c = await client.chat.completions.create(request);
  const whole = { message: c.choices[0].message, finish: c.choices[0].finish_reason, usage: c.usage };
  const acc = { content: '', reasoning_content: '', tool_calls: 0, finish: null };
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    acc.content += choice.delta?.content ?? '';
    acc.reasoning_content += choice.delta?.reasoning_content ?? '';
    acc.tool_calls += (choice.delta?.tool_calls ?? []).length;
    if (choice.finish_reason) acc.finish = choice.finish_reason;
  }
  return { whole, stream: acc };
}

const out = {};
const base = { model: 'any', max_tokens: 6, temperature: 0, logit_bias: bias };
if (scenario === 'think') {
  out.on = await both({ ...base, messages: user });
  out.off = await both({ ...base, messages: user, chat_template_kwargs: { enable_thinking: false } });
  out.free_off = await both({ model: 'any', max_tokens: 8, temperature: 0, messages: user,
    chat_template_kwargs: { enable_thinking: false } });
} else {
  out.forced = await both({ ...base, messages: user, tools });
  out.none = await both({ ...base, messages: user, tools, tool_choice: 'none' });
  // The second turn: the assistant's call (arguments as JSON text, as clients send them) and the tool's result.
  const call = { id: 'call0abcd', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } };
  const turn2 = [...user, { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: 'call0abcd', content: '{"temp_c": 21}' }];
  out.second = (await both({ model: 'any', max_tokens: 4, temperature: 0, messages: turn2, tools })).whole;
  const asObject = [...user, { role: 'assistant', content: '', tool_calls: [{ ...call,
    function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, turn2[2]];
  out.second_object = (await both({ model: 'any', max_tokens: 4, temperature: 0, messages: asObject, tools })).whole;
  try {
    await client.chat.completions.create({ ...base, messages: user, tools,
      tool_choice: { type: 'function', function: { name: 'launch' } } });
    out.bad_choice = 'no error';
  } catch (err) {
    out.bad_choice = err.status;
  }
}
console.log(JSON.stringify(out));
