// Filters on sequences and mappings: list, items, first, last, join, select / reject / selectattr / rejectattr,
// map, dictsort, sort, unique, reverse, min, max, sum, batch. Like Jinja2, select, reject, map, reverse and
// batch produce generators (iterable once, truthy, not JSON serializable, no len()).
#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_set>

#include "chat/args.hpp"
#include "chat/builtins.hpp"
#include "chat/filters_impl.hpp"
#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

// Jinja's make_attrgetter: "a.b.0" looks up item a, then b, then 0 (digits are integer indexes).
Value attr_path(Renderer& r, const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = r.get_item(v, digits && part.size() < 18 ? Value::integer(std::stoll(part)) : Value::string(part));
    if (dot == path.size()) return v;
    start = dot + 1;
  }
}

Value sort_key(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value::string(text::lower(v.str())) : v;
}

Value f_list(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "list", {});
  return Value::list(r.iterate(v));
}

Value f_items(Renderer&, const Value& v, CallArgs& a) {
  ArgReader(a, "items", {});
  if (v.is_undefined()) return Value::generator({});
  if (!v.is_dict()) throw ValueError("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, e] : v.as_dict().items) out.push_back(Value::tuple({k, e}));
  return Value::generator(std::move(out));
}

Value f_first(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "first", {});
  std::vector<Value> items = r.iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "last", {});
  if (v.is_list() && v.as_list().flavor == ListData::kGenerator)
    throw ValueError("'generator' object is not reversible");
  std::vector<Value> items = r.iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_join(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "join", {"d", "attribute"});
  const std::string sep = args.has(0) ? r.to_str(*args.get(0)) : "";
  std::string out;
  bool first = true;
  for (const Value& item : r.iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += r.to_str(args.has(1) ? attr_path(r, item, r.to_str(*args.get(1))) : item);
    r.check_size(out.size());
  }
  return Value::string(std::move(out));
}

// select / reject (test on the item) and selectattr / rejectattr (test on an attribute of the item).
Value select_impl(Renderer& r, const Value& v, CallArgs& a, bool by_attr, bool keep) {
  std::string attr;
  size_t next = 0;
  if (by_attr) {
    if (a.pos.empty() || !a.pos[0].is_string()) throw ValueError("selectattr/rejectattr: missing attribute name");
    attr = a.pos[0].str();
    next = 1;
  }
  TestFn test = nullptr;
  CallArgs test_args;
  if (a.pos.size() > next) {
    if (!a.pos[next].is_string()) throw ValueError("select: the test name must be a string");
    test = find_test(a.pos[next].str());
    if (!test) throw ValueError("No test named '" + a.pos[next].str() + "'");
    test_args.pos.assign(a.pos.begin() + static_cast<long>(next) + 1, a.pos.end());
    test_args.kw = a.kw;
  }
  std::vector<Value> out;
  if (!v.truthy()) return Value::generator({});  // Jinja: `if seq:` before iterating (none selects nothing)
  for (const Value& item : r.iterate(v)) {
    const Value probe = by_attr ? attr_path(r, item, attr) : item;
    CallArgs ta = test_args;
    const bool pass = test ? test(r, probe, ta) : probe.truthy();
    if (pass == keep) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value f_select(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, false, true); }
Value f_reject(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, false, false); }
Value f_selectattr(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, true, true); }
Value f_rejectattr(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, true, false); }

Value f_map(Renderer& r, const Value& v, CallArgs& a) {
  std::vector<Value> out;
  if (!v.truthy()) return Value::generator({});
  const Value* attribute = nullptr;
  const Value* dflt = nullptr;
  for (const auto& [k, val] : a.kw) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") dflt = &val;
  }
  if (attribute) {
    for (const Value& item : r.iterate(v)) {
      Value x = attr_path(r, item, r.to_str(*attribute));
      out.push_back(x.is_undefined() && dflt ? *dflt : x);
    }
    return Value::generator(std::move(out));
  }
  if (a.pos.empty() || !a.pos[0].is_string()) throw ValueError("map: expected a filter name or attribute=");
  const FilterFn f = find_filter(a.pos[0].str());
  if (!f) throw ValueError("No filter named '" + a.pos[0].str() + "'");
  CallArgs fa;
  fa.pos.assign(a.pos.begin() + 1, a.pos.end());
  fa.kw = a.kw;
  for (const Value& item : r.iterate(v)) {
    CallArgs copy = fa;
    out.push_back(f(r, item, copy));
  }
  return Value::generator(std::move(out));
}

void sort_values(std::vector<Value>& items, bool reverse, const std::function<Value(const Value&)>& key) {
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& v : items) keyed.emplace_back(key(v), std::move(v));
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
  });
  items.clear();
  for (auto& [k, v] : keyed) items.push_back(std::move(v));
}

Value f_sort(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "sort", {"reverse", "case_sensitive", "attribute"});
  std::vector<Value> items = r.iterate(v);
  const bool cs = args.boolean(1, false);
  const std::string attr = args.has(2) ? r.to_str(*args.get(2)) : "";
  sort_values(items, args.boolean(0, false),
              [&](const Value& x) { return sort_key(attr.empty() ? x : attr_path(r, x, attr), cs); });
  return Value::list(std::move(items));
}

Value f_dictsort(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "dictsort", {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) throw ValueError("You can only sort by either \"key\" or \"value\" of a dict");
  const bool cs = args.boolean(0, false);
  const std::string by = args.string(1, "key");
  if (by != "key" && by != "value") throw ValueError("You can only sort by either \"key\" or \"value\"");
  std::vector<Value> items;
  for (const auto& [k, e] : v.as_dict().items) items.push_back(Value::tuple({k, e}));
  const size_t idx = by == "key" ? 0 : 1;
  sort_values(items, args.boolean(2, false), [&](const Value& x) { return sort_key(x.as_list().items[idx], cs); });
  (void)r;
  return Value::list(std::move(items));
}

// A hashable spelling of scalars that Python considers equal (1, 1.0 and True; "a" only as itself).
std::optional<std::string> scalar_key(const Value& v) {
  if (v.is_string()) return "s" + v.str();
  if (v.is_none()) return std::string("n");
  if (v.is_number()) {
    const double f = v.get_float();
    if (!v.is_float() || (f == std::floor(f) && std::fabs(f) < 9e15)) return "i" + std::to_string(static_cast<int64_t>(v.is_float() ? f : v.get_int()));
    return "f" + float_repr(f);
  }
  return std::nullopt;
}

Value f_unique(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "unique", {"case_sensitive", "attribute"});
  const bool cs = args.boolean(0, false);
  const std::string attr = args.has(1) ? r.to_str(*args.get(1)) : "";
  std::vector<Value> out, seen;
  std::unordered_set<std::string> seen_scalars;
  for (const Value& item : r.iterate(v)) {
    Value key = sort_key(attr.empty() ? item : attr_path(r, item, attr), cs);
    if (std::optional<std::string> k = scalar_key(key)) {
      if (!seen_scalars.insert(*k).second) continue;
    } else {
      r.count_work(seen.size());
      if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
      seen.push_back(std::move(key));
    }
    out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value f_reverse(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader(a, "reverse", {});
  if (v.is_string()) {
    std::vector<std::string_view> cps = text::code_points(v.str());
    std::string out;
    for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
    return Value::string(std::move(out));
  }
  std::vector<Value> items = r.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items));
}

Value min_max(Renderer& r, const Value& v, CallArgs& a, bool want_max) {
  ArgReader args(a, want_max ? "max" : "min", {"case_sensitive", "attribute"});
  const bool cs = args.boolean(0, false);
  const std::string attr = args.has(1) ? r.to_str(*args.get(1)) : "";
  std::vector<Value> items = r.iterate(v);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  Value best_key = sort_key(attr.empty() ? items[0] : attr_path(r, items[0], attr), cs);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(attr.empty() ? items[i] : attr_path(r, items[i], attr), cs);
    const int c = compare(k, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

Value f_min(Renderer& r, const Value& v, CallArgs& a) { return min_max(r, v, a, false); }
Value f_max(Renderer& r, const Value& v, CallArgs& a) { return min_max(r, v, a, true); }

Value f_sum(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "sum", {"attribute", "start"});
  Value acc = args.value_or(1, Value::integer(0));
  const std::string attr = args.has(0) ? r.to_str(*args.get(0)) : "";
  for (const Value& item : r.iterate(v)) acc = binary_op(r, "+", acc, attr.empty() ? item : attr_path(r, item, attr));
  return acc;
}

Value f_batch(Renderer& r, const Value& v, CallArgs& a) {
  ArgReader args(a, "batch", {"linecount", "fill_with"});
  const int64_t n = args.integer(0, 0);
  if (n <= 0) throw ValueError("batch: linecount must be positive");
  std::vector<Value> out, cur;
  for (const Value& item : r.iterate(v)) {
    cur.push_back(item);
    if (static_cast<int64_t>(cur.size()) == n) out.push_back(Value::list(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (args.get(1))
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*args.get(1));
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::generator(std::move(out));
}

struct NamedFilter {
  std::string_view name;
  FilterFn fn;
};

constexpr NamedFilter kFilters[] = {
    {"list", f_list},         {"items", f_items},         {"first", f_first},     {"last", f_last},
    {"join", f_join},         {"select", f_select},       {"reject", f_reject},   {"selectattr", f_selectattr},
    {"rejectattr", f_rejectattr}, {"map", f_map},         {"sort", f_sort},       {"dictsort", f_dictsort},
    {"unique", f_unique},     {"reverse", f_reverse},     {"min", f_min},         {"max", f_max},
    {"sum", f_sum},           {"batch", f_batch},
};

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
  for (const NamedFilter& f : kFilters)
    if (f.name == name) return f.fn;
  return nullptr;
}

}  // namespace lmgen::chat
