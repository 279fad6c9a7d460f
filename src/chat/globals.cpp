// Global functions of the template environment: range (bounded as in the Jinja2 sandbox), namespace, dict,
// raise_exception (Hugging Face) and strftime_now (Hugging Face; the clock comes from RenderOptions).
#include "chat/args.hpp"
#include "chat/builtins.hpp"
#include "chat/renderer.hpp"

namespace lmgen::chat {

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Value g_range(Renderer& r, CallArgs& a) {
  if (!a.kw.empty()) throw ValueError("range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3) throw ValueError("range expected 1 to 3 arguments");
  int64_t v[3] = {0, 0, 1};
  for (size_t i = 0; i < a.pos.size(); ++i) {
    if (!a.pos[i].is_int() && !a.pos[i].is_bool())
      throw ValueError("'" + a.pos[i].type_name() + "' object cannot be interpreted as an integer");
    v[a.pos.size() == 1 ? 1 : i] = a.pos[i].get_int();
  }
  const int64_t start = v[0], stop = v[1], step = v[2];
  if (step == 0) throw ValueError("range() arg 3 must not be zero");
  const long double count = step > 0 ? (static_cast<long double>(stop) - start + step - 1) / step
                                     : (static_cast<long double>(start) - stop - step - 1) / -step;
  if (count > kMaxRange)
    throw ValueError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push_back(Value::integer(i));
    if (out.size() >= static_cast<size_t>(kMaxRange)) break;
  }
  r.check_items(out.size());
  return Value::list(std::move(out));
}

std::vector<std::pair<Value, Value>> dict_items(CallArgs& a, const char* fn) {
  std::vector<std::pair<Value, Value>> items;
  if (a.pos.size() > 1) throw ValueError(std::string(fn) + "() takes at most 1 positional argument");
  if (!a.pos.empty()) {
    if (!a.pos[0].is_dict()) throw ValueError(std::string(fn) + "(): the positional argument must be a dict");
    items = a.pos[0].as_dict().items;
  }
  for (auto& [k, v] : a.kw) items.emplace_back(Value::string(k), v);
  return items;
}

Value g_namespace(Renderer&, CallArgs& a) {
  auto ns = std::make_shared<NamespaceData>();
  for (auto& [k, v] : dict_items(a, "namespace")) {
    if (!k.is_string()) throw ValueError("namespace(): keys must be strings");
    if (v.pinned())
      throw ValueError("namespace(): cannot hold a namespace, macro or loop object");
    ns->set(k.str(), v);
  }
  return Value::namespace_obj(std::move(ns));
}

Value g_dict(Renderer&, CallArgs& a) { return Value::dict(dict_items(a, "dict")); }

Value g_raise_exception(Renderer& r, CallArgs& a) {
  ArgReader args(a, "raise_exception", {"message"});
  throw ValueError("raise_exception: " + (args.get(0) ? r.to_str(*args.get(0)) : std::string()));
}

Value g_strftime_now(Renderer& r, CallArgs& a) {
  ArgReader args(a, "strftime_now", {"format"});
  return Value::string(r.strftime_now(r.to_str(args.required(0))));
}

Value make(const char* name, Value (*fn)(Renderer&, CallArgs&)) {
  auto c = std::make_shared<CallableData>();
  c->name = name;
  c->fn = fn;
  return Value::callable(std::move(c));
}

}  // namespace

Value find_global(std::string_view name) {
  if (name == "range") return make("range", g_range);
  if (name == "namespace") return make("namespace", g_namespace);
  if (name == "dict") return make("dict", g_dict);
  if (name == "raise_exception") return make("raise_exception", g_raise_exception);
  if (name == "strftime_now") return make("strftime_now", g_strftime_now);
  return Value::undefined("'" + std::string(name) + "' is undefined");
}

}  // namespace lmgen::chat
