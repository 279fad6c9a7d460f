// Grammars that constrain generation: llama.cpp's GBNF dialect, JSON schemas converted to it, and the vocabulary
// index the sampler's grammar step walks.
//
//   auto g = compile_gbnf(json_schema_to_gbnf(schema_text));    // throws Error naming line:column or keyword
//   opt.sampling.grammar = {g, index_vocabulary(tokenizer, eog_ids)};
//   generator.generate(prompt, opt, ...);                         // every token keeps the text in the language
//
// Hooks for tool calls: JsonSchemaOptions::prefix / suffix put a schema's value inside a call format's literal
// frame, and GrammarConstraint::trigger starts the constraint only once the generated text contains that text.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen {

class Tokenizer;

// A parsed and checked grammar (opaque; shared read-only by every sequence that uses it).
class CompiledGrammar;
// Throws Error("grammar: LINE:COL: ...") for a syntax error, an undefined rule, a missing root or left recursion.
std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf);

struct JsonSchemaOptions {
  std::string prefix, suffix;  // literal text around the value (a tool call's frame); "" = none
};
// The GBNF for a JSON schema (text). Keywords a grammar cannot enforce but that only narrow the language are
// added to *warnings (when given) as "KEYWORD at PATH: why"; an unsupported keyword throws Error naming it.
std::string json_schema_to_gbnf(std::string_view schema_json, std::vector<std::string>* warnings = nullptr,
                                const JsonSchemaOptions& opt = {});
// --json / response_format json_object: any JSON object.
std::string json_object_gbnf();

// Whether the whole of `text` is a sentence of the grammar; else the byte offset where it leaves the language (the
// text's length when it ends too early) and what could have come there ("\"{\"", "[0-9]", "end of text").
struct GrammarCheck {
  bool accepted = false;
  size_t at = 0;
  std::vector<std::string> expected;
};
GrammarCheck check_text(const std::shared_ptr<const CompiledGrammar>& g, std::string_view text);

// The vocabulary's token texts in a byte trie, with the end-of-generation ids; built once per tokenizer (about a
// tenth of a second for 150k tokens) and shared by every sequence.
class TokenIndex;
std::shared_ptr<const TokenIndex> index_vocabulary(const Tokenizer& tok, std::span<const int32_t> extra_eog = {});

// What the sampler chain's grammar step needs (SamplingOptions::grammar). No grammar = no constraint.
struct GrammarConstraint {
  std::shared_ptr<const CompiledGrammar> grammar;
  std::shared_ptr<const TokenIndex> vocab;
  std::string trigger;  // "" = from the first generated token; else from where this text first appears in the
                        // output (the grammar then matches the text from the trigger on, trigger included)
};

}  // namespace lmgen
