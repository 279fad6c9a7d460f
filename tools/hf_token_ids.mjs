// Generates tests/data/hf_token_ids.json: the token ids that Hugging Face's own tokenizers library (the Rust crate,
// through the npm package @anush008/tokenizers) gives for every tokenizer.json the tests use, on the corpus of
// shared/reference/tokenizer/corpus.json plus the extra strings below. tests/test_tokenizer_text.cpp encodes the
// same strings with lmgen and compares. A test-only tool: CI reads the committed JSON and never needs npm.
//
// How to run it (from the project root; node and the npm registry needed, nothing is installed into the project):
//   mkdir -p /tmp/hf-tok && (cd /tmp/hf-tok && npm install --no-save @anush008/tokenizers@0.6.0)
//   NODE_PATH=/tmp/hf-tok/node_modules node tools/hf_token_ids.mjs ${LMGEN_SHARED:-../shared} > tests/data/hf_token_ids.json
//
// Output: {"generator", "corpus": path of the corpus under shared/, "corpus_size", "extra": [strings],
//          "hf_cannot_load": [{"name", "path", "hf_error"}],
//          "tokenizers": [{"name", "path", "ids": [[...] per string], "ids_with_special": [[...] per string]}]}
// The strings are the corpus's, in order, then "extra". Special-token text inside a string is parsed (HF always
// matches added tokens); "ids" is encode(add_special_tokens=false), "ids_with_special" encode(true).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

// Strings the corpus lacks: first words of one and two bytes (the Gemma 2 crash of issue 27), runs of spaces,
// leading and trailing spaces, newlines, emoji, mixed scripts.
const EXTRA = [
  'a', 'a b', 'Hi there', 'El niño', 'I am', 'I', 'ab', 'ab cd', 'é', 'é b', 'ñ x y', '中 文', 'x  y', 'x   y',
  'a    b     c', '     ', ' a', '  a', '   a b', 'a ', 'a  ', 'Hi there  ', '  Hi there  ', ' \n a', 'a\nb',
  'a\n\nb\n', '\n a b', 'I\tam', 'a▁b', '▁a', '▁▁ x', '👍 ok', 'ok 👍', '👨‍👩‍👧 a', '😀😀 😀', 'Привет мир',
  'a Привет b', '日本語 text 한국어', 'x 中文 y', 'niño año', 'café  au lait', 'Hi<s>there', ' . , ',
];

const shared = process.argv[2] || process.env.LMGEN_SHARED || '../shared';
const corpusRel = 'reference/tokenizer/corpus.json';
const corpus = JSON.parse(fs.readFileSync(path.join(shared, corpusRel), 'utf8'));
const strings = corpus.concat(EXTRA);

// Every fixture's hf/ tokenizer, then the full-size shared tokenizers.
const files = [];
for (const d of fs.readdirSync(path.join(shared, 'fixtures')).sort()) {
  const rel = `fixtures/${d}/hf/tokenizer.json`;
  if (fs.existsSync(path.join(shared, rel))) files.push({ name: d, path: rel });
}
for (const d of fs.readdirSync(path.join(shared, 'tokenizers')).sort()) {
  const rel = `tokenizers/${d}/tokenizer.json`;
  if (fs.existsSync(path.join(shared, rel))) files.push({ name: d, path: rel });
}

// A file HF itself cannot load (tiny-llama's re-saved Llama 2 file, whose merges lost their U+00A0) is listed
// with HF's message, so the test knows it was not forgotten.
const tokenizers = [], unloadable = [];
for (const f of files) {
  let tok;
  try {
    tok = Tokenizer.fromFile(path.join(shared, f.path));
    tok.disableTruncation();  // (tiny-gpt2's file truncates at 50 tokens; lmgen never truncates)
    tok.disablePadding();
  } catch (e) {
    unloadable.push({ name: f.name, path: f.path, hf_error: String(e.message) });
    continue;
  }
  const ids = [], withSpecial = [];
  for (const s of strings) {
    ids.push((await tok.encode(s, null, { addSpecialTokens: false })).getIds());
    withSpecial.push((await tok.encode(s, null, { addSpecialTokens: true })).getIds());
  }
  tokenizers.push({ name: f.name, path: f.path, ids, ids_with_special: withSpecial });
}

// One line per string's ids keeps the file diffable without making it huge.
const lines = (lists) => '[\n' + lists.map((l) => JSON.stringify(l)).join(',\n') + ']';
const parts = tokenizers.map((t) =>
  `{"name": ${JSON.stringify(t.name)}, "path": ${JSON.stringify(t.path)},\n"ids": ${lines(t.ids)},\n` +
  `"ids_with_special": ${lines(t.ids_with_special)}}`);
process.stdout.write(
  `{"generator": "tools/hf_token_ids.mjs with @anush008/tokenizers 0.6.0 (HF tokenizers 0.22.2)",\n` +
  `"corpus": ${JSON.stringify(corpusRel)}, "corpus_size": ${corpus.length},\n` +
  `"extra": ${JSON.stringify(EXTRA)},\n"hf_cannot_load": ${JSON.stringify(unloadable)},\n"tokenizers": [\n${parts.join(',\n')}]}\n`);
