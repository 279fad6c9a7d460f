// Filters on strings and scalars (trim, lower, upper, title, capitalize, replace, indent, center, wordcount,
// string, int, float, abs, round, safe, escape, tojson, default, attr, length) and the filter registry.
// Sequence filters are in filters_seq.cpp.
#include <utf8proc.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "chat/args.hpp"
#include "chat/builtins.hpp"
#include "chat/filters_impl.hpp"
#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

Value f_trim(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "trim", {"chars"});
  const std::string s = r.to_str(v);
  const std::string chars = args.string(0, "");
  return Value::string(std::string(text::strip(s, args.has(0) ? &chars : nullptr, true, true)), v.is_safe());
}

Value f_lower(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "lower", {});
  return Value::string(text::lower(r.to_str(v)));
}
Value f_upper(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "upper", {});
  return Value::string(text::upper(r.to_str(v)));
}
Value f_capitalize(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "capitalize", {});
  return Value::string(text::capitalize(r.to_str(v)));
}

// Jinja's title: words start after runs of whitespace, '-', '(', '{', '[', '<'.
Value f_title(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "title", {});
  const std::string s = r.to_str(v);
  std::string out;
  bool word_start = true;
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t c = text::next_cp(s, pos);
    const bool sep = text::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    const std::string_view cp(s.data() + start, pos - start);
    out += sep ? std::string(cp) : word_start ? text::upper(cp) : text::lower(cp);
    word_start = sep;
  }
  return Value::string(std::move(out));
}

Value f_replace(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "replace", {"old", "new", "count"});
  const std::string from = r.to_str(args.required(0)), to = r.to_str(args.required(1));
  return Value::string(text::replace(r.to_str(v), from, to, args.integer(2, -1), r.limits().max_output_bytes));
}

Value f_indent(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "indent", {"width", "first", "blank"});
  std::string unit;
  if (args.get(0) && args.get(0)->is_string()) {
    unit = args.get(0)->str();
  } else {
    const int64_t w = args.integer(0, 4);
    r.check_size(static_cast<size_t>(std::max<int64_t>(w, 0)));
    unit.assign(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  }
  const std::vector<std::string> lines = text::splitlines(r.to_str(v) + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n";
    const bool indent = i == 0 ? args.boolean(1, false) : (args.boolean(2, false) || !lines[i].empty());
    if (indent) out += unit;
    out += lines[i];
    r.check_size(out.size());
  }
  if (lines.empty() && args.boolean(1, false)) out = unit;
  return Value::string(std::move(out));
}

Value f_center(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "center", {"width"});
  const std::string s = r.to_str(v);
  const int64_t width = args.integer(0, 80);
  const int64_t n = static_cast<int64_t>(text::cp_count(s));
  if (width <= n) return Value::string(s);
  r.check_size(static_cast<size_t>(width) + s.size());
  const int64_t marg = width - n;
  const int64_t left = marg / 2 + (marg & width & 1);
  return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
}

Value f_wordcount(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "wordcount", {});
  const std::string s = r.to_str(v);
  int64_t words = 0;
  bool in_word = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t c = text::next_cp(s, pos);
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    const bool w = c == '_' || (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                   (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value::integer(words);
}

Value f_string(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "string", {});
  return v.is_string() ? v : Value::string(r.to_str(v));
}

std::optional<double> parse_float(std::string_view s) {
  std::string t(text::strip(s, nullptr, true, true));
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return d;
}

Value f_int(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "int", {"default", "base"});
  const Value dflt = args.value_or(0, Value::integer(0));
  if (v.is_int() || v.is_bool()) return Value::integer(v.get_int());
  if (v.is_float()) {
    const double f = std::trunc(v.get_float());
    if (!(std::fabs(f) < 9.2e18)) return dflt;
    return Value::integer(static_cast<int64_t>(f));
  }
  if (!v.is_string()) return dflt;
  std::string t(text::strip(v.str(), nullptr, true, true));
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  errno = 0;
  char* end = nullptr;
  const long long i = std::strtoll(t.c_str(), &end, static_cast<int>(std::clamp<int64_t>(args.integer(1, 10), 0, 36)));
  if (!t.empty() && end == t.c_str() + t.size() && errno == 0) return Value::integer(i);
  std::optional<double> d = parse_float(t);
  if (!d || !(std::fabs(*d) < 9.2e18)) return dflt;
  (void)r;
  return Value::integer(static_cast<int64_t>(std::trunc(*d)));
}

Value f_float(Renderer&, const Value& v, CallArgs& a) {
  ArgReader args(a, "float", {"default"});
  if (v.is_number()) return Value::number(v.get_float());
  if (v.is_string())
    if (std::optional<double> d = parse_float(v.str())) return Value::number(*d);
  return args.value_or(0, Value::number(0.0));
}

Value f_abs(Renderer&, const Value& v, CallArgs& a) {
  ArgReader(a, "abs", {});
  if (v.is_float()) return Value::number(std::fabs(v.get_float()));
  if (!v.is_number()) throw ValueError("bad operand type for abs(): '" + v.type_name() + "'");
  if (v.get_int() == INT64_MIN) throw ValueError("integer overflow");
  return Value::integer(std::llabs(v.get_int()));
}

Value f_round(Renderer&, const Value& v, CallArgs& a) {
  ArgReader args(a, "round", {"precision", "method"});
  const int64_t precision = args.integer(0, 0);
  const std::string method = args.string(1, "common");
  if (!v.is_number()) throw ValueError("round: expected a number, got " + v.type_name());
  if (method == "common" && !v.is_float()) return Value::integer(v.get_int());
  const double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
  const double x = v.get_float() * scale;
  double y;
  if (method == "common") y = std::nearbyint(x);
  else if (method == "ceil") y = std::ceil(x);
  else if (method == "floor") y = std::floor(x);
  else throw ValueError("method must be common, ceil or floor");
  return Value::number(y / scale);
}

Value f_safe(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "safe", {});
  return Value::string(r.to_str(v), true);
}

Value f_escape(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "escape", {});
  if (v.is_safe()) return v;
  std::string out = text::html_escape(r.to_str(v));
  r.check_size(out.size());
  return Value::string(std::move(out), true);
}

Value f_tojson(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = args.boolean(0, false);
  if (args.has(1)) {
    if (args.get(1)->is_string()) {
      o.indent_str = args.get(1)->str();
      o.indent = 0;
    } else {
      o.indent = static_cast<int>(std::clamp<int64_t>(args.integer(1, -1), 0, 1 << 20));
    }
  }
  if (args.has(2)) {
    const Value& sep = *args.get(2);
    if (!sep.is_list() || sep.as_list().items.size() != 2 || !sep.as_list().items[0].is_string() ||
        !sep.as_list().items[1].is_string())
      throw ValueError("tojson: separators must be a pair of strings");
    o.item_sep = sep.as_list().items[0].str();
    o.key_sep = sep.as_list().items[1].str();
    o.separators_set = true;
  }
  o.sort_keys = args.boolean(3, false);
  o.max_bytes = r.limits().max_output_bytes;
  return Value::string(json_dumps(v, o));
}

Value f_default(Renderer&, const Value& v, CallArgs& a) {
  ArgReader args(a, "default", {"default_value", "boolean"});
  if (v.is_undefined() || (args.boolean(1, false) && !v.truthy())) return args.value_or(0, Value::string(""));
  return v;
}

Value f_attr(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "attr", {"name"});
  const std::string name = args.string(0, "");
  // Python getattr only: the keys of a dict are not its attributes.
  if (v.is_dict() && !has_method(v, name)) return Value::undefined("'dict object' has no attribute '" + name + "'");
  return r.get_attr(v, name);
}

Value f_length(Renderer&, const Value& v, CallArgs& a) {
  ArgReader(a, "length", {});
  switch (v.kind()) {
    case Kind::Undefined: return Value::integer(0);
    case Kind::String: return Value::integer(static_cast<int64_t>(text::cp_count(v.str())));
    case Kind::List:
      if (v.as_list().flavor == ListData::kGenerator) throw ValueError("object of type 'generator' has no len()");
      return Value::integer(static_cast<int64_t>(v.as_list().items.size()));
    case Kind::Dict: return Value::integer(static_cast<int64_t>(v.as_dict().items.size()));
    default: throw ValueError("object of type '" + v.type_name() + "' has no len()");
  }
}

struct NamedFilter {
  std::string_view name;
  FilterFn fn;
};

constexpr NamedFilter kFilters[] = {
    {"trim", f_trim},       {"lower", f_lower},     {"upper", f_upper},       {"capitalize", f_capitalize},
    {"title", f_title},     {"replace", f_replace}, {"indent", f_indent},     {"center", f_center},
    {"wordcount", f_wordcount}, {"string", f_string}, {"int", f_int},       {"float", f_float},
    {"abs", f_abs},         {"round", f_round},     {"safe", f_safe},         {"escape", f_escape},
    {"e", f_escape},        {"forceescape", f_escape}, {"tojson", f_tojson}, {"default", f_default},
    {"d", f_default},       {"attr", f_attr},       {"length", f_length},     {"count", f_length},
};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const NamedFilter& f : kFilters)
    if (f.name == name) return f.fn;
  return find_sequence_filter(name);
}

}  // namespace lmgen::chat
