// The JSON schema converter (see json_schema.hpp): one rule per schema node, named after its path, plus the
// primitive rules (llama.cpp's spelling) a schema uses.
#include "grammar/json_schema.hpp"

#include "grammar/schema_converter.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"

namespace lmgen::grammar {

namespace schema_detail {

namespace {

struct Primitive {
  const char* name;
  const char* body;
  std::vector<const char*> deps;
};

// llama.cpp's primitive rules, by name (the same language for the same schema).
const std::vector<Primitive>& primitives() {
  static const std::vector<Primitive> p = {
      {"space", R"(| " " | "\n" [ \t]{0,20})", {}},
      {"boolean", R"(("true" | "false") space)", {"space"}},
      {"decimal-part", "[0-9]{1,16}", {}},
      {"integral-part", "[0] | [1-9] [0-9]{0,15}", {}},
      {"number", R"(("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)? space)",
       {"integral-part", "decimal-part", "space"}},
      {"integer", R"(("-"? integral-part) space)", {"integral-part", "space"}},
      {"value", "object | array | string | number | boolean | null",
       {"object", "array", "string", "number", "boolean", "null"}},
      {"object", R"("{" space ( string ":" space value ("," space string ":" space value)* )? "}" space)",
       {"string", "value", "space"}},
      {"array", R"("[" space ( value ("," space value)* )? "]" space)", {"value", "space"}},
      {"uuid",
       R"("\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\"" space)",
       {"space"}},
      {"char", R"([^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4}))", {}},
      {"string", R"("\"" char* "\"" space)", {"char", "space"}},
      {"null", R"("null" space)", {"space"}},
      {"date", R"([0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] ))", {}},
      {"time",
       R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))",
       {}},
      {"date-time", R"(date "T" time)", {"date", "time"}},
      {"date-string", R"("\"" date "\"" space)", {"date", "space"}},
      {"time-string", R"("\"" time "\"" space)", {"time", "space"}},
      {"date-time-string", R"("\"" date-time "\"" space)", {"date-time", "space"}},
  };
  return p;
}

const std::set<std::string, std::less<>> kAnnotations = {
    "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
    "writeOnly", "$anchor", "contentEncoding", "contentMediaType", "strict"};
const std::set<std::string, std::less<>> kImplemented = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
    "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "$ref", "definitions", "$defs", "anyOf", "oneOf", "allOf"};
// Only narrow the language; a grammar cannot enforce them (a warning each).
const std::set<std::string, std::less<>> kNarrowing = {"uniqueItems", "multipleOf", "minProperties",
                                                       "maxProperties", "contains", "minContains", "maxContains"};

}  // namespace

std::string Converter::primitive(const std::string& name) {
  for (const Primitive& p : primitives()) {
    if (p.name != name) continue;
    if (rules_.count(name)) return name;
    rules_.emplace(name, p.body);
    for (const char* d : p.deps) primitive(d);
    return name;
  }
  throw Error("json schema: internal: no primitive '" + name + "'");
}

void Converter::check_keywords(const json& s, const std::string& path) {
  for (const auto& [k, v] : s.items()) {
    if (kAnnotations.count(k) || kImplemented.count(k)) continue;
    if (kNarrowing.count(k)) { warn(path, k, "not enforced by the grammar"); continue; }
    fail(path, "unsupported keyword '" + k + "'");
  }
}

const json& Converter::resolve(const std::string& ref, const std::string& path) {
  if (ref.empty() || ref[0] != '#') {
    fail(path, "$ref '" + ref + "' is not local (only #, #/definitions/..., #/$defs/... and other #/ pointers)");
  }
  try {
    const json::json_pointer ptr(ref.substr(1));
    return root_.at(ptr);
  } catch (const json::exception&) {
    fail(path, "$ref '" + ref + "' points at nothing in the schema");
  }
}

std::string Converter::visit_ref(const std::string& ref, const std::string& path) {
  auto it = refs_.find(ref);
  if (it != refs_.end()) return it->second;
  const json& target = resolve(ref, path);
  const std::string tail = ref.substr(ref.find_last_of('/') + 1);
  std::string name = rule_name("ref-" + (tail.empty() || tail == "#" ? std::string("root") : tail));
  while (rules_.count(name)) name += "-";
  rules_.emplace(name, "");  // reserved: a recursive reference finds it
  refs_[ref] = name;
  rules_[name] = visit(target, name + "-body", ref.substr(1));
  return name;
}

std::string Converter::visit(const json& s, const std::string& name, const std::string& path) {
  if (s.is_boolean()) {
    if (!s.get<bool>()) fail(path, "the schema false matches nothing");
    return primitive("value");
  }
  if (!s.is_object()) fail(path, "a schema must be an object or a boolean");
  check_keywords(s, path);
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) fail(path, "$ref must be a string");
    return visit_ref(s["$ref"].get<std::string>(), path);
  }
  for (const char* k : {"anyOf", "oneOf"}) {
    if (!s.contains(k)) continue;
    const json& list = s[k];
    if (!list.is_array() || list.empty()) fail(path, std::string(k) + " must be a non-empty array");
    std::vector<std::string> alts;
    for (size_t i = 0; i < list.size(); ++i)
      alts.push_back(visit(list[i], name + "-" + std::to_string(i), join_path(join_path(path, k), std::to_string(i))));
    return add_rule(name, alts_of(alts));
  }
  if (s.contains("allOf")) return visit(merge_all_of(s, path), name, path);
  if (s.contains("const")) return add_rule(name, gbnf_literal(s["const"].dump()) + " " + primitive("space"));
  if (s.contains("enum")) {
    if (!s["enum"].is_array() || s["enum"].empty()) fail(path, "enum must be a non-empty array");
    std::vector<std::string> alts;
    for (const json& v : s["enum"]) alts.push_back(gbnf_literal(v.dump()));
    return add_rule(name, "(" + alts_of(alts) + ") " + primitive("space"));
  }
  if (!s.contains("type")) {
    if (s.contains("properties") || s.contains("additionalProperties")) return visit_typed(s, "object", name, path);
    if (s.contains("items") || s.contains("prefixItems")) return visit_typed(s, "array", name, path);
    return primitive("value");
  }
  const json& type = s["type"];
  if (type.is_string()) return visit_typed(s, type.get<std::string>(), name, path);
  if (!type.is_array() || type.empty()) fail(path, "type must be a string or a non-empty array of strings");
  std::vector<std::string> alts;
  for (const json& t : type) {
    if (!t.is_string()) fail(path, "type must be a string or a non-empty array of strings");
    alts.push_back(visit_typed(s, t.get<std::string>(), name + "-" + t.get<std::string>(), path));
  }
  return add_rule(name, alts_of(alts));
}

std::string Converter::visit_typed(const json& s, const std::string& type, const std::string& name,
                                   const std::string& path) {
  if (type == "object") return object_rule(s, name, path);
  if (type == "array") return array_rule(s, name, path);
  if (type == "string") return string_rule(s, name, path);
  if (type == "integer") return number_rule(s, true, name, path);
  if (type == "number") return number_rule(s, false, name, path);
  if (type == "boolean") return primitive("boolean");
  if (type == "null") return primitive("null");
  fail(path, "unknown type '" + type + "'");
}

json Converter::merge_all_of(const json& s, const std::string& path) {
  json merged = s;
  merged.erase("allOf");
  const json& list = s["allOf"];
  if (!list.is_array() || list.empty()) fail(path, "allOf must be a non-empty array");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string sub_path = join_path(join_path(path, "allOf"), std::to_string(i));
    json part = list[i];
    for (int hops = 0; part.is_object() && part.contains("$ref") && part["$ref"].is_string(); ++hops) {
      if (hops == kMaxJsonDepth) fail(sub_path, "$ref chain does not end");
      part = resolve(part["$ref"].get<std::string>(), sub_path);
    }
    if (part.is_object() && part.contains("allOf")) {
      if (++merge_depth_ > kMaxJsonDepth) fail(sub_path, "allOf refers back to itself");
      part = merge_all_of(part, sub_path);
      --merge_depth_;
    }
    if (!part.is_object()) fail(sub_path, "allOf parts must be object schemas");
    check_keywords(part, sub_path);
    for (const auto& [k, v] : part.items()) {
      if (k == "properties") {
        for (const auto& [pk, pv] : v.items()) merged["properties"][pk] = pv;
      } else if (k == "required") {
        for (const json& r : v)
          if (!merged.contains("required") || std::find(merged["required"].begin(), merged["required"].end(), r) ==
                                                  merged["required"].end())
            merged["required"].push_back(r);
      } else if (kAnnotations.count(k)) {
        continue;
      } else if (merged.contains(k) && merged[k] != v) {
        fail(sub_path, "allOf parts disagree on '" + k + "' (only properties and required are merged)");
      } else {
        merged[k] = v;
      }
    }
  }
  return merged;
}

}  // namespace schema_detail

SchemaGrammar schema_to_gbnf(const nlohmann::ordered_json& schema, const SchemaOptions& opt) {
  SchemaGrammar out;
  schema_detail::Converter c(schema, out.warnings);
  out.gbnf = c.root_rule(opt);
  return out;
}

SchemaGrammar schema_text_to_gbnf(std::string_view schema_text, const SchemaOptions& opt) {
  nlohmann::ordered_json schema;
  // Nesting is limited while parsing (the converter recurses over the schema).
  auto limit = [](int depth, nlohmann::ordered_json::parse_event_t, nlohmann::ordered_json&) {
    if (depth > kMaxJsonDepth) throw Error("json schema: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    schema = nlohmann::ordered_json::parse(schema_text, limit);
  } catch (const nlohmann::ordered_json::exception& e) {
    throw Error(std::string("json schema: not valid JSON: ") + e.what());
  }
  return schema_to_gbnf(schema, opt);
}

}  // namespace lmgen::grammar
