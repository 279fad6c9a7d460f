// JSON schema -> GBNF, with llama.cpp's choices wherever the schema leaves one (json_schema_to_grammar): values are
// followed by its whitespace rule (`space ::= | " " | "\n" [ \t]{0,20}`), properties come in schema order with
// the required ones first, an object with `properties` takes no other keys unless `additionalProperties` says so,
// `prefixItems` is the whole array, numbers have at most 16 integer and 16 fraction digits. So one schema gives the
// same language here and there.
//
// Keywords: type (a name or a list), enum, const, properties, required, additionalProperties, items, prefixItems,
// minItems, maxItems, minLength, maxLength, pattern (regex.cpp), format (date, time, date-time, uuid), minimum,
// maximum, exclusiveMinimum, exclusiveMaximum (integers), $ref (local: #, #/definitions/.., #/$defs/.., any JSON
// pointer), definitions, $defs, anyOf, oneOf, allOf. Annotations are ignored. Keywords that only narrow the
// language and that a grammar cannot enforce (uniqueItems, multipleOf, bounds on non-integers, other formats,
// minProperties, maxProperties, contains) are accepted with a warning naming the keyword and where it is; any
// other keyword is an error naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen::grammar {

struct SchemaOptions {
  // Literal text around the value (a tool call's frame: prefix `{"name": "f", "arguments": `, suffix `}`).
  std::string prefix, suffix;
};

struct SchemaGrammar {
  std::string gbnf;                   // rule "root" first
  std::vector<std::string> warnings;  // "uniqueItems at /properties/tags: not enforced"
};

// Throws lmgen::Error("json schema: ...") for an invalid or unsupported schema.
SchemaGrammar schema_to_gbnf(const nlohmann::ordered_json& schema, const SchemaOptions& opt = {});
// Same from JSON text (nesting limited as every untrusted JSON input).
SchemaGrammar schema_text_to_gbnf(std::string_view schema_text, const SchemaOptions& opt = {});

// Helpers shared by the converter's files.
std::string gbnf_literal(std::string_view text);  // "..." with GBNF escapes
// The GBNF expression for an integer in [lo, hi]; has_lo / has_hi false = unbounded on that side.
std::string integer_range(bool has_lo, int64_t lo, bool has_hi, int64_t hi);
// The GBNF expression for the *contents* of a JSON string (between the quotes) that matches an ECMA regex `pattern`
// (the subset schemas use: literals, escapes, ., classes, \d \w \s, groups, |, * + ? {m,n}, ^ $). Throws Error.
std::string pattern_to_gbnf(std::string_view pattern);

}  // namespace lmgen::grammar
