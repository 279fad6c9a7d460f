// The converter's rules for typed values: objects (llama.cpp's property order and optional-property chains),
// arrays (items with bounds, prefixItems tuples), strings (formats, patterns, lengths) and numbers (integer ranges).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "grammar/schema_converter.hpp"
#include "lmgen/error.hpp"

namespace lmgen::grammar::schema_detail {

namespace {

constexpr double kIntLimit = 1e15;  // integer bounds beyond ±10^15 are clamped (16 digits is the grammar's limit)

// llama.cpp's repetition with a separator: item ("," space item){min-1,max-1}, optional when min is 0.
std::string repetition(const std::string& item, int64_t min, int64_t max, const std::string& sep) {
  if (max == 0) return "";
  if (min == 0 && max == 1) return item + "?";
  if (sep.empty()) {
    if (min == 1 && max < 0) return item + "+";
    if (min == 0 && max < 0) return item + "*";
    return item + "{" + std::to_string(min) + "," + (max < 0 ? "" : std::to_string(max)) + "}";
  }
  const std::string rest =
      repetition("(" + sep + " " + item + ")", min > 0 ? min - 1 : 0, max < 0 ? -1 : max - 1, "");
  const std::string result = rest.empty() ? item : item + " " + rest;
  return min == 0 ? "(" + result + ")?" : result;
}

int64_t count_keyword(const json& s, const char* k, int64_t dflt, const std::string& path) {
  if (!s.contains(k)) return dflt;
  const json& v = s[k];
  if (!v.is_number_integer() && !(v.is_number() && std::floor(v.get<double>()) == v.get<double>()))
    throw Error("json schema: " + std::string(k) + " must be a non-negative integer at " + (path.empty() ? "/" : path));
  const double d = v.get<double>();
  if (d < 0) throw Error("json schema: " + std::string(k) + " must be >= 0 at " + (path.empty() ? "/" : path));
  return d > 1e6 ? 1000000 : static_cast<int64_t>(d);
}

}  // namespace

std::string Converter::not_strings(const std::vector<std::string>& names, const std::string& name) {
  // A trie of the excluded names; at each node: one of its children's characters and on, or any other character
  // and anything after it, or (when no name ends here) the end of the string.
  struct Node {
    std::map<char, int> next;
    bool end = false;
  };
  std::vector<Node> trie(1);
  for (const std::string& n : names) {
    if (n.size() > 1024) throw Error("json schema: property name longer than 1024 bytes (at " + name + ")");
    int at = 0;
    for (char c : n) {
      auto it = trie[at].next.find(c);
      if (it == trie[at].next.end()) {
        trie.push_back({});
        it = trie[at].next.emplace(c, static_cast<int>(trie.size()) - 1).first;
      }
      at = it->second;
    }
    trie[at].end = true;
  }
  primitive("char");
  std::function<std::string(int)> gen = [&](int at) {
    std::vector<std::string> alts;
    std::string others = "[^\"\\\\\\x7F\\x00-\\x1F";
    for (const auto& [c, child] : trie[at].next) {
      alts.push_back(gbnf_literal(std::string(1, c)) + " " + gen(child));
      const std::string lit = gbnf_literal(std::string(1, c));
      others += lit.substr(1, lit.size() - 2) == "]" ? "\\]" : lit.substr(1, lit.size() - 2);
    }
    alts.push_back("(" + others + "] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})) char*");
    if (!trie[at].end) alts.push_back("");
    return "(" + alts_of(alts) + ")";
  };
  return add_rule(name, "\"\\\"\" " + gen(0) + " \"\\\"\" " + primitive("space"));
}

std::string Converter::object_rule(const json& s, const std::string& name, const std::string& path) {
  const bool has_props = s.contains("properties");
  const json* additional = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
  if (!has_props && (!additional || (additional->is_boolean() && additional->get<bool>())))
    return primitive("object");  // any object
  if (has_props && !s["properties"].is_object()) fail(path, "properties must be an object");
  std::vector<std::string> required_list;
  if (s.contains("required")) {
    if (!s["required"].is_array()) fail(path, "required must be an array of names");
    for (const json& r : s["required"]) {
      if (!r.is_string()) fail(path, "required must be an array of names");
      required_list.push_back(r.get<std::string>());
    }
  }
  auto required = [&](const std::string& k) {
    return std::find(required_list.begin(), required_list.end(), k) != required_list.end();
  };
  // key-value rules in schema order; required ones first (llama.cpp).
  std::vector<std::string> req, opt, names;
  std::map<std::string, std::string> kv;
  if (has_props) {
    for (const auto& [k, v] : s["properties"].items()) {
      const std::string value = visit(v, name + "-" + k, join_path(join_path(path, "properties"), k));
      kv[k] = add_rule(name + "-" + k + "-kv",
                       gbnf_literal(json(k).dump()) + " " + primitive("space") + " \":\" space " + value);
      names.push_back(k);
      (required(k) ? req : opt).push_back(k);
    }
  }
  for (const std::string& r : required_list)
    if (std::find(names.begin(), names.end(), r) == names.end())
      fail(path, "required property '" + r + "' is not in properties (lmgen cannot generate it)");
  if (additional && !(additional->is_boolean() && !additional->get<bool>())) {
    const std::string value = visit(*additional, name + "-additional-value", join_path(path, "additionalProperties"));
    const std::string key = names.empty() ? primitive("string") : not_strings(names, name + "-additional-key");
    kv["*"] = add_rule(name + "-additional-kv", key + " \":\" space " + value);
    opt.push_back("*");
  }
  std::string rule = "\"{\" space ";
  for (size_t i = 0; i < req.size(); ++i) rule += (i ? " \",\" space " : "") + kv[req[i]];
  if (!opt.empty()) {
    // Optional properties in order, each possibly absent: k1-rest ::= ( "," space k2 )? k2-rest ...
    std::function<std::string(size_t, bool)> chain = [&](size_t i, bool first_optional) {
      const std::string& k = opt[i];
      const std::string comma = "( \",\" space " + kv[k] + " )";
      std::string res = first_optional ? comma + (k == "*" ? "*" : "?") : kv[k] + (k == "*" ? " " + comma + "*" : "");
      if (i + 1 < opt.size()) res += " " + add_rule(name + "-" + k + "-rest", chain(i + 1, true));
      return res;
    };
    std::vector<std::string> starts;
    for (size_t i = 0; i < opt.size(); ++i) starts.push_back(chain(i, false));
    rule += " (" + std::string(req.empty() ? " " : " \",\" space ( ") + alts_of(starts) + (req.empty() ? "" : " )") + " )?";
  }
  return add_rule(name, rule + " \"}\" space");
}

std::string Converter::array_rule(const json& s, const std::string& name, const std::string& path) {
  const json* tuple = s.contains("prefixItems") ? &s["prefixItems"]
                      : s.contains("items") && s["items"].is_array() ? &s["items"] : nullptr;
  primitive("space");
  if (tuple) {
    std::string rule = "\"[\" space ";
    for (size_t i = 0; i < tuple->size(); ++i)
      rule += (i ? " \",\" space " : "") +
              visit((*tuple)[i], name + "-" + std::to_string(i), join_path(join_path(path, "prefixItems"), std::to_string(i)));
    return add_rule(name, rule + " \"]\" space");
  }
  const int64_t min = count_keyword(s, "minItems", 0, path), max = count_keyword(s, "maxItems", -1, path);
  if (max >= 0 && max < min) fail(path, "maxItems is below minItems");
  if (!s.contains("items") && min == 0 && max < 0) return primitive("array");
  const std::string item =
      s.contains("items") ? visit(s["items"], name + "-item", join_path(path, "items")) : primitive("value");
  return add_rule(name, "\"[\" space " + repetition(item, min, max, "\",\" space") + " \"]\" space");
}

std::string Converter::string_rule(const json& s, const std::string& name, const std::string& path) {
  if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) fail(path, "pattern must be a string");
    if (s.contains("minLength") || s.contains("maxLength")) warn(path, "minLength/maxLength", "not enforced with a pattern");
    return add_rule(name, "\"\\\"\" " + pattern_to_gbnf(s["pattern"].get<std::string>()) + " \"\\\"\" " +
                              primitive("space"));
  }
  if (s.contains("format")) {
    const std::string f = s["format"].is_string() ? s["format"].get<std::string>() : "";
    if (f == "date" || f == "time" || f == "date-time") return primitive(f + "-string");
    if (f == "uuid") return primitive("uuid");
    warn(path, "format", "'" + f + "' is not enforced by the grammar");
  }
  const int64_t min = count_keyword(s, "minLength", 0, path), max = count_keyword(s, "maxLength", -1, path);
  if (max >= 0 && max < min) fail(path, "maxLength is below minLength");
  if (min == 0 && max < 0) return primitive("string");
  return add_rule(name, "\"\\\"\" " + repetition(primitive("char"), min, max, "") + " \"\\\"\" " + primitive("space"));
}

std::string Converter::number_rule(const json& s, bool integer, const std::string& name, const std::string& path) {
  const char* keys[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
  if (!integer) {
    for (const char* k : keys)
      if (s.contains(k)) warn(path, k, "bounds on a non-integer number are not enforced by the grammar");
    return primitive("number");
  }
  bool has_lo = false, has_hi = false;
  double lo = -kIntLimit, hi = kIntLimit;
  for (const char* k : keys) {
    if (!s.contains(k)) continue;
    if (!s[k].is_number()) fail(path, std::string(k) + " must be a number");
    const double v = s[k].get<double>();
    const std::string key = k;
    if (key == "minimum") { lo = std::max(lo, std::ceil(v)); has_lo = true; }
    if (key == "exclusiveMinimum") { lo = std::max(lo, std::floor(v) + 1); has_lo = true; }
    if (key == "maximum") { hi = std::min(hi, std::floor(v)); has_hi = true; }
    if (key == "exclusiveMaximum") { hi = std::min(hi, std::ceil(v) - 1); has_hi = true; }
  }
  if (!has_lo && !has_hi) return primitive("integer");
  lo = std::clamp(lo, -kIntLimit, kIntLimit);
  hi = std::clamp(hi, -kIntLimit, kIntLimit);
  if (lo > hi) fail(path, "no integer lies between the bounds");
  return add_rule(name, integer_range(has_lo, static_cast<int64_t>(lo), has_hi, static_cast<int64_t>(hi)) + " " +
                            primitive("space"));
}

}  // namespace lmgen::grammar::schema_detail
