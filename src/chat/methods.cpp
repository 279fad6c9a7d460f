// Python methods reachable from templates: str (strip, split, startswith, replace, find, format, ...), dict (get,
// items, keys, values), list (index, count) and the fields and methods of the loop object. The methods that
// mutate (list.append, dict.update, ...) exist but fail, as in jinja2's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <array>

#include "chat/args.hpp"
#include "chat/builtins.hpp"
#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

constexpr std::array<std::string_view, 34> kStrMethods = {
    "strip",   "lstrip",    "rstrip",     "split",     "rsplit",      "startswith", "endswith", "upper",   "lower",
    "title",   "capitalize", "replace",   "find",      "rfind",       "index",      "count",    "join",    "format",
    "splitlines", "isdigit", "isalpha",   "isalnum",   "isspace",     "islower",    "isupper",  "center",  "ljust",
    "rjust",   "zfill",      "removeprefix", "removesuffix", "casefold", "swapcase", "partition"};
constexpr std::array<std::string_view, 5> kDictMethods = {"get", "items", "keys", "values", "copy"};
constexpr std::array<std::string_view, 6> kDictMutators = {"pop", "popitem", "setdefault", "update", "clear", "fromkeys"};
constexpr std::array<std::string_view, 3> kListMethods = {"index", "count", "copy"};
constexpr std::array<std::string_view, 8> kListMutators = {"append", "extend", "insert", "pop",
                                                           "remove", "reverse", "sort", "clear"};
constexpr std::array<std::string_view, 12> kLoopFields = {"index",    "index0", "revindex", "revindex0",
                                                          "first",    "last",   "length",   "previtem",
                                                          "nextitem", "depth",  "depth0",   "cycle"};

template <size_t N>
bool in(const std::array<std::string_view, N>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// Python's str.find / index return code point offsets.
int64_t cp_offset(std::string_view s, size_t byte_pos) {
  return static_cast<int64_t>(text::cp_count(s.substr(0, byte_pos)));
}

bool matches_affix(Renderer& r, const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) throw ValueError("startswith/endswith: expected a str or a tuple of str, not " + a.type_name());
    const std::string& t = a.str();
    return t.size() <= s.size() && (prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0);
  };
  if (affix.is_list()) return std::any_of(affix.as_list().items.begin(), affix.as_list().items.end(), one);
  (void)r;
  return one(affix);
}

Value strings(const std::vector<std::string>& parts) {
  std::vector<Value> out;
  out.reserve(parts.size());
  for (const std::string& p : parts) out.push_back(Value::string(p));
  return Value::list(std::move(out));
}

// str.format: {} {0} {name} fields with str() conversion; {{ and }} are literal braces.
std::string py_format(Renderer& r, const std::string& fmt, CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') throw ValueError("Single '}' encountered in format string");
    if (c != '{') {
      out += c;
      continue;
    }
    const size_t end = fmt.find('}', i);
    if (end == std::string::npos) throw ValueError("Single '{' encountered in format string");
    const std::string field = fmt.substr(i + 1, end - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) throw ValueError("format: only {}, {N} and {name} fields are supported");
    const Value* v = nullptr;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t idx = field.empty() ? auto_index++ : static_cast<size_t>(std::stoul(field.substr(0, 9)));
      if (idx >= a.pos.size()) throw ValueError("Replacement index " + std::to_string(idx) + " out of range");
      v = &a.pos[idx];
    } else {
      for (const auto& [k, val] : a.kw)
        if (k == field) v = &val;
      if (!v) throw ValueError("format: missing keyword argument '" + field + "'");
    }
    out += r.to_str(*v);
    r.check_size(out.size());
    i = end;
  }
  return out;
}

Value pad(Renderer& r, const std::string& s, CallArgs& a, const char* fn, int align) {
  ArgReader args(a, fn, {"width", "fillchar"});
  const int64_t width = args.integer(0, 0);
  const std::string fill = args.string(1, " ");
  if (text::cp_count(fill) != 1) throw ValueError("The fill character must be exactly one character long");
  const int64_t n = static_cast<int64_t>(text::cp_count(s));
  if (width <= n) return Value::string(s);
  r.check_size(static_cast<size_t>(width) * fill.size());
  const int64_t marg = width - n;
  const int64_t left = align < 0 ? 0 : align > 0 ? marg : marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < marg - left; ++i) out += fill;
  return Value::string(std::move(out));
}

template <typename Pred>
bool all_cps(const std::string& s, Pred p) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();)
    if (!p(text::next_cp(s, pos))) return false;
  return true;
}

Value str_method(Renderer& r, const std::string& s, std::string_view m, CallArgs& a);

Value str_method_more(Renderer& r, const std::string& s, std::string_view m, CallArgs& a) {
  if (m == "isdigit") return Value::boolean(all_cps(s, text::is_digit));
  if (m == "isalpha") return Value::boolean(all_cps(s, text::is_alpha));
  if (m == "isalnum")
    return Value::boolean(all_cps(s, [](char32_t c) { return text::is_alpha(c) || text::is_digit(c); }));
  if (m == "isspace") return Value::boolean(all_cps(s, text::is_space));
  if (m == "islower") return Value::boolean(text::is_lower(s));
  if (m == "isupper") return Value::boolean(text::is_upper(s));
  if (m == "center") return pad(r, s, a, "center", 0);
  if (m == "ljust") return pad(r, s, a, "ljust", -1);
  if (m == "rjust") return pad(r, s, a, "rjust", 1);
  if (m == "zfill") {
    ArgReader args(a, "zfill", {"width"});
    const int64_t width = args.integer(0, 0);
    const int64_t n = static_cast<int64_t>(text::cp_count(s));
    if (width <= n) return Value::string(s);
    r.check_size(static_cast<size_t>(width));
    const bool sign = !s.empty() && (s[0] == '-' || s[0] == '+');
    return Value::string((sign ? s.substr(0, 1) : "") + std::string(static_cast<size_t>(width - n), '0') + s.substr(sign ? 1 : 0));
  }
  if (m == "removeprefix" || m == "removesuffix") {
    const std::string t = ArgReader(a, std::string(m), {"affix"}).string(0, "");
    if (m == "removeprefix") return Value::string(s.rfind(t, 0) == 0 ? s.substr(t.size()) : s);
    const bool ends = t.size() <= s.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
    return Value::string(ends ? s.substr(0, s.size() - t.size()) : s);
  }
  if (m == "casefold") return Value::string(text::lower(s));
  if (m == "swapcase") {
    std::string out;
    for (std::string_view cp : text::code_points(s)) {
      const std::string u = text::upper(cp);
      out += u != cp ? u : text::lower(cp);
    }
    return Value::string(std::move(out));
  }
  if (m == "partition") {
    const std::string sep = ArgReader(a, "partition", {"sep"}).string(0, "");
    if (sep.empty()) throw ValueError("empty separator");
    const size_t p = s.find(sep);
    if (p == std::string::npos) return Value::tuple({Value::string(s), Value::string(""), Value::string("")});
    return Value::tuple({Value::string(s.substr(0, p)), Value::string(sep), Value::string(s.substr(p + sep.size()))});
  }
  return str_method(r, s, m, a);
}

Value str_method(Renderer& r, const std::string& s, std::string_view m, CallArgs& a) {
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    ArgReader args(a, std::string(m), {"chars"});
    const std::string chars = args.string(0, "");
    return Value::string(std::string(text::strip(s, args.has(0) ? &chars : nullptr, m != "rstrip", m != "lstrip")));
  }
  if (m == "split" || m == "rsplit") {
    ArgReader args(a, std::string(m), {"sep", "maxsplit"});
    const std::string sep = args.string(0, "");
    return strings(text::split(s, args.has(0) ? &sep : nullptr, args.integer(1, -1), m == "rsplit"));
  }
  if (m == "startswith" || m == "endswith") {
    ArgReader args(a, std::string(m), {"prefix", "start", "end"});
    return Value::boolean(matches_affix(r, s, args.required(0), m == "startswith"));
  }
  if (m == "upper") return Value::string(text::upper(s));
  if (m == "lower") return Value::string(text::lower(s));
  if (m == "title") return Value::string(text::py_title(s));
  if (m == "capitalize") return Value::string(text::capitalize(s));
  if (m == "replace") {
    ArgReader args(a, "replace", {"old", "new", "count"});
    return Value::string(text::replace(s, args.string(0, ""), args.string(1, ""), args.integer(2, -1), r.limits().max_output_bytes));
  }
  if (m == "find" || m == "rfind" || m == "index" || m == "count") {
    ArgReader args(a, std::string(m), {"sub"});
    const std::string sub = args.string(0, "");
    if (m == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(text::cp_count(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    }
    const size_t p = m == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos && m == "index") throw ValueError("substring not found");
    return Value::integer(p == std::string::npos ? -1 : cp_offset(s, p));
  }
  if (m == "join") {
    ArgReader args(a, "join", {"iterable"});
    std::string out;
    bool first = true;
    for (const Value& v : r.iterate(args.required(0))) {
      if (!v.is_string()) throw ValueError("sequence item: expected str instance, " + v.type_name() + " found");
      if (!first) out += s;
      first = false;
      out += v.str();
      r.check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (m == "format") return Value::string(py_format(r, s, a));
  if (m == "splitlines") return strings(text::splitlines(s, ArgReader(a, "splitlines", {"keepends"}).boolean(0, false)));
  return str_method_more(r, s, m, a);
}

Value dict_method(const Value& d, std::string_view m, CallArgs& a) {
  if (m == "get") {
    ArgReader args(a, "get", {"key", "default"});
    const Value* v = d.as_dict().find(args.required(0));
    return v ? *v : args.value_or(1, Value::none());
  }
  ArgReader(a, std::string(m), {});
  if (m == "copy") return d;
  std::vector<Value> out;
  for (const auto& [k, v] : d.as_dict().items)
    out.push_back(m == "keys" ? k : m == "values" ? v : Value::tuple({k, v}));
  return Value::list(std::move(out));
}

Value list_method(const Value& l, std::string_view m, CallArgs& a) {
  if (m == "copy") return Value::list(l.as_list().items);
  ArgReader args(a, std::string(m), {"value"});
  const Value& x = args.required(0);
  const auto& items = l.as_list().items;
  if (m == "count") return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, x); }));
  for (size_t i = 0; i < items.size(); ++i)
    if (equals(items[i], x)) return Value::integer(static_cast<int64_t>(i));
  throw ValueError(x.repr() + " is not in list");
}

Value loop_field(const Value& lv, std::string_view m, CallArgs& a) {
  const LoopData& l = lv.as_loop();
  const auto& items = l.items->items;
  const auto n = static_cast<int64_t>(items.size());
  const auto i = static_cast<int64_t>(l.index);
  if (m == "cycle") {
    if (a.pos.empty()) throw ValueError("no items for cycling given");
    return a.pos[l.index % a.pos.size()];
  }
  if (m == "index") return Value::integer(i + 1);
  if (m == "index0") return Value::integer(i);
  if (m == "revindex") return Value::integer(n - i);
  if (m == "revindex0") return Value::integer(n - i - 1);
  if (m == "first") return Value::boolean(i == 0);
  if (m == "last") return Value::boolean(i == n - 1);
  if (m == "length") return Value::integer(n);
  if (m == "depth") return Value::integer(l.depth);
  if (m == "depth0") return Value::integer(l.depth - 1);
  if (m == "previtem") return i > 0 ? items[l.index - 1] : Value::undefined("there is no previous item");
  return i + 1 < n ? items[l.index + 1] : Value::undefined("there is no next item");
}

}  // namespace

bool has_method(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Kind::String: return in(kStrMethods, name);
    case Kind::Dict: return in(kDictMethods, name) || in(kDictMutators, name);
    case Kind::List: return in(kListMethods, name) || in(kListMutators, name);
    case Kind::Loop: return in(kLoopFields, name);
    default: return false;
  }
}

Value call_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args) {
  switch (obj.kind()) {
    case Kind::String: return str_method(r, obj.str(), name, args);
    case Kind::Dict:
      if (in(kDictMutators, name))
        throw ValueError("access to attribute '" + std::string(name) + "' of 'dict' object is unsafe.");
      return dict_method(obj, name, args);
    case Kind::List:
      if (in(kListMutators, name))
        throw ValueError("access to attribute '" + std::string(name) + "' of '" + obj.type_name() + "' object is unsafe.");
      return list_method(obj, name, args);
    case Kind::Loop: return loop_field(obj, name, args);
    default: throw ValueError("'" + obj.type_name() + "' object has no attribute '" + std::string(name) + "'");
  }
}

}  // namespace lmgen::chat
