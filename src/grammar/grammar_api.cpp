// The public grammar entry points (include/lmgen/grammar.hpp) over the parser, the schema converter and the matcher.
#include "lmgen/grammar.hpp"

#include "grammar/json_schema.hpp"
#include "grammar/token_index.hpp"

namespace lmgen {

std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf) {
  return std::make_shared<const CompiledGrammar>(grammar::parse_gbnf(gbnf));
}

std::string json_schema_to_gbnf(std::string_view schema_json, std::vector<std::string>* warnings,
                                const JsonSchemaOptions& opt) {
  grammar::SchemaGrammar g = grammar::schema_text_to_gbnf(schema_json, {opt.prefix, opt.suffix});
  if (warnings) warnings->insert(warnings->end(), g.warnings.begin(), g.warnings.end());
  return g.gbnf;
}

std::string json_object_gbnf() { return json_schema_to_gbnf(R"({"type": "object"})"); }

GrammarCheck check_text(const std::shared_ptr<const CompiledGrammar>& g, std::string_view text) {
  grammar::Matcher m(g->get());
  grammar::MatchState st = m.start();
  GrammarCheck out;
  for (size_t i = 0; i < text.size(); ++i) {
    grammar::MatchState next;
    if (!m.step(st, static_cast<uint8_t>(text[i]), next)) {
      // A byte inside a character is reported at the character's first byte.
      out.at = i - (st.partial_left > 0 ? static_cast<size_t>(st.partial_len - st.partial_left) : 0);
      out.expected = m.expected(st);
      return out;
    }
    st = std::move(next);
  }
  out.accepted = m.complete(st);
  out.at = text.size();
  if (!out.accepted) out.expected = m.expected(st);
  return out;
}

}  // namespace lmgen
