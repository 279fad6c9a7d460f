// call_grammar (call_grammar.hpp): the tools' parameter schemas put into one JSON schema for a call (an anyOf over
// the tools, each {"name": {"const": NAME}, ARGS_KEY: PARAMETERS}), converted by the grammar's schema converter
// inside the family's literal frame.
#include "reply/call_grammar.hpp"

#include "grammar/json_schema.hpp"
#include "lmgen/error.hpp"
#include "util/json_limits.hpp"

namespace lmgen::reply {

namespace {

using OJson = nlohmann::ordered_json;

// The keywords whose values are data, not schemas: a "$ref" inside them is not a reference.
bool holds_data(const std::string& key) {
  return key == "const" || key == "enum" || key == "default" || key == "examples";
}

// A tool's local references ("#/$defs/x", "#") point into its parameters; in the call schema the parameters sit
// at `base`, so every reference is moved there.
void rebase_refs(OJson& s, const std::string& base) {
  if (s.is_array()) {
    for (OJson& v : s) rebase_refs(v, base);
    return;
  }
  if (!s.is_object()) return;
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it.key() == "$ref" && it.value().is_string()) {
      const std::string ref = it.value().get<std::string>();
      if (!ref.empty() && ref[0] == '#') it.value() = "#" + base + ref.substr(1);
    } else if (!holds_data(it.key())) {
      rebase_refs(it.value(), base);
    }
  }
}

struct Tool {
  std::string name;
  OJson parameters;
};

Tool read_tool(const OJson& t) {
  const OJson* f = t.is_object() && t.contains("function") ? &t["function"] : nullptr;
  if (!f || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string())
    throw Error("tool call grammar: each tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
  Tool tool{(*f)["name"].get<std::string>(), OJson{{"type", "object"}}};
  if (f->contains("parameters") && !(*f)["parameters"].is_null()) tool.parameters = (*f)["parameters"];
  try {  // each schema alone first, so that an error names its tool
    (void)grammar::schema_to_gbnf(tool.parameters);
  } catch (const Error& e) {
    throw Error("tool call grammar: the parameters of '" + tool.name + "': " + e.what());
  }
  return tool;
}

// One call object to `tool`, its parameters to be found at `base` in the whole schema.
OJson call_schema(Tool tool, const std::string& args_key, const std::string& base) {
  rebase_refs(tool.parameters, base + "/properties/" + args_key);
  OJson props = OJson::object();
  props["name"] = OJson{{"const", tool.name}};
  props[args_key] = std::move(tool.parameters);
  return OJson{{"type", "object"}, {"properties", std::move(props)}, {"required", OJson::array({"name", args_key})}};
}

// The schema of what sits inside the frame: one call, or an array of them.
OJson calls_schema(const std::vector<Tool>& tools, const CallSyntax& syntax, bool parallel) {
  const std::string outer = syntax.array ? "/items" : "";
  OJson call;
  if (tools.size() == 1) {
    call = call_schema(tools[0], syntax.args_key, outer);
  } else {
    call = OJson{{"anyOf", OJson::array()}};
    for (size_t i = 0; i < tools.size(); ++i)
      call["anyOf"].push_back(call_schema(tools[i], syntax.args_key, outer + "/anyOf/" + std::to_string(i)));
  }
  if (!syntax.array) return call;
  OJson array{{"type", "array"}, {"items", std::move(call)}, {"minItems", 1}};
  if (!parallel) array["maxItems"] = 1;
  return array;
}

// The root rule: the thinking block the reply may start with, then the calls (`block`, repeated when `repeat`).
std::string root_rule(const ReplyFormat& format, const CallGrammarOptions& opt, bool repeat) {
  std::string calls = repeat ? "tool-call-block (\"\\n\" tool-call-block)*" : "tool-call-block";
  if (!format.reasoning || opt.start == ReasoningStart::Closed) return "root ::= " + calls + "\n";
  // The thought: any text without "</" (so the first "</think>" closes it, as the parser reads it).
  const std::string close = grammar::gbnf_literal(format.reasoning->close) + " [ \\n]* ";
  const std::string thought = opt.start == ReasoningStart::Open
                                  ? "tool-thought " + close
                                  : "(" + grammar::gbnf_literal(format.reasoning->open) + " tool-thought " + close + ")? ";
  return "root ::= " + thought + calls + "\ntool-thought ::= ([^<] | \"<\" [^/])*\n";
}

}  // namespace

CallGrammar call_grammar(const ReplyFormat& format, const nlohmann::ordered_json& tools,
                         const CallGrammarOptions& opt) {
  if (!tools.is_array() || tools.empty()) throw Error("tool call grammar: needs a non-empty array of tools");
  if (format.calls.empty()) throw Error("tool call grammar: the reply format has no call syntax");
  check_json_depth(tools, "tool call grammar: tools");  // the converter recurses over the schemas
  std::vector<Tool> list;
  for (const OJson& t : tools) list.push_back(read_tool(t));
  const CallSyntax& syntax = format.calls.front();
  // Hermes models write the JSON on a line of its own.
  const std::string pad = format.family == Family::Hermes ? "\n" : "";
  grammar::SchemaOptions frame;
  if (!syntax.open.empty()) frame.prefix = syntax.open + pad;
  if (!syntax.close.empty()) frame.suffix = pad + syntax.close;
  grammar::SchemaGrammar g = grammar::schema_to_gbnf(calls_schema(list, syntax, opt.parallel), frame);
  // The converter's root (the framed calls; no other rule refers to it by name) becomes tool-call-block under a
  // root of ours. A closed block that holds one call (Hermes) repeats for parallel calls.
  const std::string root = "root ::= ";
  if (!g.gbnf.starts_with(root)) throw Error("tool call grammar: internal: the schema grammar has no leading root");
  const bool repeat = opt.parallel && !syntax.array && !frame.suffix.empty();
  g.gbnf = root_rule(format, opt, repeat) + "tool-call-block ::= " + g.gbnf.substr(root.size());
  return {std::move(g.gbnf), std::move(g.warnings)};
}

}  // namespace lmgen::reply
