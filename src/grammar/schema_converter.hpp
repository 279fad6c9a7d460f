// The JSON schema converter's state, shared by json_schema.cpp (schema nodes, $ref, allOf, entry points) and
// json_schema_types.cpp (the rules for objects, arrays, strings and numbers). Internal to src/grammar/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "grammar/json_schema.hpp"
#include "lmgen/error.hpp"

namespace lmgen::grammar::schema_detail {

using json = nlohmann::ordered_json;

inline std::string rule_name(std::string s) {
  for (char& c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) c = '-';
  return s.empty() ? "r" : s;
}

inline std::string join_path(const std::string& path, const std::string& key) { return path + "/" + key; }

inline std::string alts_of(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : " | ") + x;
  return s;
}

// Converts one schema (with its $defs) into rules. Rule names come from the schema path of each node.
class Converter {
 public:
  Converter(const json& root, std::vector<std::string>& warnings) : root_(root), warnings_(warnings) {}

  std::string root_rule(const SchemaOptions& opt) {
    const bool framed = !opt.prefix.empty() || !opt.suffix.empty();
    std::string body = visit(root_, framed ? "value" : "root", "");
    if (!opt.prefix.empty()) body = gbnf_literal(opt.prefix) + " " + body;
    if (!opt.suffix.empty()) body += " " + gbnf_literal(opt.suffix);
    std::string out;
    if (body != "root") out = "root ::= " + body + "\n";
    for (const auto& [name, rule] : rules_) (name == "root" ? out.insert(0, "root ::= " + rule + "\n") : out += name + " ::= " + rule + "\n");
    return out;
  }

 private:
  const json& root_;
  std::vector<std::string>& warnings_;
  std::map<std::string, std::string> rules_;   // name -> body
  std::map<std::string, std::string> refs_;    // "$ref" text -> rule name
  int merge_depth_ = 0;                        // allOf parts being merged inside one another

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error("json schema: " + what + " at " + (path.empty() ? "/" : path));
  }
  void warn(const std::string& path, const std::string& keyword, const std::string& why) {
    warnings_.push_back(keyword + " at " + (path.empty() ? "/" : path) + ": " + why);
  }

  std::string add_rule(const std::string& wanted, const std::string& body) {
    std::string name = rule_name(wanted);
    for (int k = 1;; ++k) {
      auto it = rules_.find(name);
      if (it == rules_.end()) { rules_.emplace(name, body); return name; }
      if (it->second == body) return name;
      name = rule_name(wanted) + std::to_string(k);
    }
  }

  std::string primitive(const std::string& name);

  void check_keywords(const json& s, const std::string& path);

  const json& resolve(const std::string& ref, const std::string& path);

  std::string visit_ref(const std::string& ref, const std::string& path);

  std::string visit(const json& s, const std::string& name, const std::string& path);
  std::string visit_typed(const json& s, const std::string& type, const std::string& name, const std::string& path);
  std::string object_rule(const json& s, const std::string& name, const std::string& path);
  std::string array_rule(const json& s, const std::string& name, const std::string& path);
  std::string string_rule(const json& s, const std::string& name, const std::string& path);
  std::string number_rule(const json& s, bool integer, const std::string& name, const std::string& path);
  json merge_all_of(const json& s, const std::string& path);
  std::string not_strings(const std::vector<std::string>& names, const std::string& name);
};

}  // namespace lmgen::grammar::schema_detail
