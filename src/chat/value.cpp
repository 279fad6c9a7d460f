// lmgen::chat::Value: construction, Python truthiness, str()/repr(), equality, ordering and membership.
#include "chat/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

int depth_over(int d) {
  if (d + 1 > kMaxValueDepth) throw ValueError("value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  return d + 1;
}

uint64_t nodes_over(uint64_t n) {
  if (n > kMaxValueNodes) throw ValueError("value too large (more than " + std::to_string(kMaxValueNodes) + " elements in all)");
  return n;
}

Value make_list(std::vector<Value> items, ListData::Flavor flavor, std::shared_ptr<Object>& slot) {
  auto l = std::make_shared<ListData>();
  int d = 0;
  uint64_t n = 1;
  for (const Value& v : items) {
    d = std::max(d, v.depth());
    n = nodes_over(n + v.nodes());
    l->pinned = l->pinned || v.pinned();
  }
  l->nodes = n;
  l->depth = depth_over(d);
  l->items = std::move(items);
  l->flavor = flavor;
  slot = l;
  return {};
}

}  // namespace

Value Value::undefined(std::string hint) {
  Value v;
  v.s_ = std::move(hint);
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}
Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::Float;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s, bool safe) {
  Value v;
  v.kind_ = Kind::String;
  v.s_ = std::move(s);
  v.b_ = safe;
  return v;
}
Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::List;
  make_list(std::move(items), ListData::kList, v.obj_);
  return v;
}
Value Value::tuple(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::List;
  make_list(std::move(items), ListData::kTuple, v.obj_);
  return v;
}
Value Value::generator(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::List;
  make_list(std::move(items), ListData::kGenerator, v.obj_);
  return v;
}
Value Value::dict(std::vector<std::pair<Value, Value>> items) {
  Value v;
  v.kind_ = Kind::Dict;
  auto d = std::make_shared<DictData>();
  int depth = 0;
  uint64_t n = 1;
  // Python dicts keep one entry per key: a repeated key keeps its first position and takes the last value.
  for (auto& entry : items) {
    const Value& key = entry.first;
    depth = std::max({depth, key.depth(), entry.second.depth()});
    n = nodes_over(n + key.nodes() + entry.second.nodes());
    d->pinned = d->pinned || key.pinned() || entry.second.pinned();
    auto it = std::find_if(d->items.begin(), d->items.end(), [&](const auto& e) { return equals(e.first, key); });
    if (it != d->items.end())
      it->second = std::move(entry.second);
    else
      d->items.push_back(std::move(entry));
  }
  d->depth = depth_over(depth);
  d->nodes = n;
  v.obj_ = std::move(d);
  return v;
}
Value Value::callable(std::shared_ptr<CallableData> c) {
  Value v;
  v.kind_ = Kind::Callable;
  v.obj_ = std::move(c);
  return v;
}
Value Value::namespace_obj(std::shared_ptr<NamespaceData> n) {
  Value v;
  v.kind_ = Kind::Namespace;
  v.obj_ = std::move(n);
  return v;
}
Value Value::loop(std::shared_ptr<LoopData> l) {
  Value v;
  v.kind_ = Kind::Loop;
  v.obj_ = std::move(l);
  return v;
}

namespace {

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) throw ValueError("context value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json_at(e, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      std::vector<std::pair<Value, Value>> items;
      items.reserve(j.size());
      for (const auto& [k, e] : j.items()) items.emplace_back(Value::string(k), from_json_at(e, depth + 1));
      return Value::dict(std::move(items));
    }
    default: return Value::none();  // binary / discarded: not produced by JSON text
  }
}

}  // namespace

Value Value::from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

const ListData& Value::as_list() const { return static_cast<const ListData&>(*obj_); }
const DictData& Value::as_dict() const { return static_cast<const DictData&>(*obj_); }
const CallableData& Value::as_callable() const { return static_cast<const CallableData&>(*obj_); }
NamespaceData& Value::as_namespace() const { return static_cast<NamespaceData&>(*obj_); }
LoopData& Value::as_loop() const { return static_cast<LoopData&>(*obj_); }

int Value::depth() const {
  if (kind_ == Kind::List) return as_list().depth;
  if (kind_ == Kind::Dict) return as_dict().depth;
  return 0;
}

uint64_t Value::nodes() const {
  if (kind_ == Kind::List) return as_list().nodes;
  if (kind_ == Kind::Dict) return as_dict().nodes;
  return 1;
}

bool Value::pinned() const {
  switch (kind_) {
    case Kind::List: return as_list().pinned;
    case Kind::Dict: return as_dict().pinned;
    case Kind::Namespace:
    case Kind::Loop: return true;
    case Kind::Callable: return as_callable().macro != nullptr;
    default: return false;
  }
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return b_;
    case Kind::Int: return i_ != 0;
    case Kind::Float: return f_ != 0.0;
    case Kind::String: return !s_.empty();
    case Kind::List: return as_list().flavor == ListData::kGenerator || !as_list().items.empty();
    case Kind::Dict: return !as_dict().items.empty();
    default: return true;
  }
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: {
      const auto f = as_list().flavor;
      return f == ListData::kTuple ? "tuple" : f == ListData::kGenerator ? "generator" : "list";
    }
    case Kind::Dict: return "dict";
    case Kind::Callable: return as_callable().macro ? "Macro" : "function";
    case Kind::Namespace: return "Namespace";
    case Kind::Loop: return "LoopContext";
  }
  return "object";
}

const Value* DictData::find(const Value& key) const {
  for (const auto& [k, v] : items)
    if (equals(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.str() == key) return &v;
  return nullptr;
}

Value* NamespaceData::find(std::string_view name) {
  for (auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

void NamespaceData::set(const std::string& name, Value v) {
  if (Value* slot = find(name))
    *slot = std::move(v);
  else
    attrs.emplace_back(name, std::move(v));
}

// ---- printing ----

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);  // shortest round trip
  std::string sci(buf, res.ptr);
  const bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e_pos + 1));
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {  // Python repr switches to exponent notation here
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + eb;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  const size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += ch;
    }
  }
  return out + q;
}

namespace {

// Appends Python repr (top == false) or str (top == true) of v to out, failing past max bytes.
void print_to(const Value& v, bool as_str, std::string& out, size_t max) {
  auto add = [&](std::string_view t) {
    if (out.size() + t.size() > max) throw ValueError("value too large to print (limit " + std::to_string(max) + " bytes)");
    out += t;
  };
  switch (v.kind()) {
    case Kind::Undefined: return add(as_str ? "" : "Undefined");
    case Kind::None: return add("None");
    case Kind::Bool: return add(v.get_bool() ? "True" : "False");
    case Kind::Int: return add(std::to_string(v.get_int()));
    case Kind::Float: return add(float_repr(v.get_float()));
    case Kind::String: return add(as_str ? std::string_view(v.str()) : std::string_view(string_repr(v.str())));
    case Kind::List: {
      const ListData& l = v.as_list();
      if (l.flavor == ListData::kGenerator) return add("<generator object>");
      const bool tuple = l.flavor == ListData::kTuple;
      add(tuple ? "(" : "[");
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) add(", ");
        print_to(l.items[i], false, out, max);
      }
      if (tuple && l.items.size() == 1) add(",");
      return add(tuple ? ")" : "]");
    }
    case Kind::Dict: {
      add("{");
      bool first = true;
      for (const auto& [k, val] : v.as_dict().items) {
        if (!first) add(", ");
        first = false;
        print_to(k, false, out, max);
        add(": ");
        print_to(val, false, out, max);
      }
      return add("}");
    }
    case Kind::Callable: return add("<function " + v.as_callable().name + ">");
    case Kind::Namespace: {
      add("<Namespace {");
      bool first = true;
      for (const auto& [k, val] : v.as_namespace().attrs) {
        if (!first) add(", ");
        first = false;
        add(string_repr(k) + ": ");
        print_to(val, false, out, max);
      }
      return add("}>");
    }
    case Kind::Loop: return add("<LoopContext>");
  }
}

}  // namespace

std::string Value::to_str(size_t max_bytes) const {
  if (kind_ == Kind::String) return s_;
  std::string out;
  print_to(*this, true, out, max_bytes);
  return out;
}

std::string Value::repr(size_t max_bytes) const {
  std::string out;
  print_to(*this, false, out, max_bytes);
  return out;
}

// ---- comparison ----

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.get_float() == b.get_float();
    return a.get_int() == b.get_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.str() == b.str();
    case Kind::List: {
      const ListData& x = a.as_list();
      const ListData& y = b.as_list();
      if ((x.flavor == ListData::kTuple) != (y.flavor == ListData::kTuple)) return false;
      if (x.flavor == ListData::kGenerator || y.flavor == ListData::kGenerator) return &x == &y;
      if (x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals(x.items[i], y.items[i])) return false;
      return true;
    }
    case Kind::Dict: {
      const DictData& x = a.as_dict();
      const DictData& y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* o = y.find(k);
        if (!o || !equals(v, *o)) return false;
      }
      return true;
    }
    case Kind::Callable: return &a.as_callable() == &b.as_callable();
    case Kind::Namespace: return &a.as_namespace() == &b.as_namespace();
    case Kind::Loop: return &a.as_loop() == &b.as_loop();
    default: return false;
  }
}

int compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.get_float(), y = b.get_float();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const int64_t x = a.get_int(), y = b.get_int();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.str().compare(b.str()) < 0 ? -1 : a.str() == b.str() ? 0 : 1;
  if (a.is_list() && b.is_list() && a.as_list().flavor == b.as_list().flavor &&
      a.as_list().flavor != ListData::kGenerator) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i])) continue;
      return compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  throw ValueError("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

bool contains(const Value& c, const Value& item) {
  switch (c.kind()) {
    case Kind::String:
      if (!item.is_string())
        throw ValueError("'in <string>' requires string as left operand, not " + item.type_name());
      return c.str().find(item.str()) != std::string::npos;
    case Kind::List:
      for (const Value& v : c.as_list().items)
        if (equals(v, item)) return true;
      return false;
    case Kind::Dict: return c.as_dict().find(item) != nullptr;
    case Kind::Undefined: return false;
    case Kind::Namespace: return item.is_string() && c.as_namespace().find(item.str()) != nullptr;
    default: throw ValueError("argument of type '" + c.type_name() + "' is not iterable");
  }
}

}  // namespace lmgen::chat
