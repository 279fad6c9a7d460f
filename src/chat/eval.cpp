// The renderer's expressions: names, literals, attribute / item / slice lookup (Jinja's getattr-then-getitem
// rules and undefined results), calls, filters, tests, operators, comparisons, and/or/not, conditionals.
// A ValueError from anything below becomes a TemplateError at the innermost expression being evaluated.
#include <algorithm>
#include <optional>

#include "chat/builtins.hpp"
#include "chat/error.hpp"
#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

std::string object_repr(const Value& v) { return v.is_none() ? "None" : v.type_name() + " object"; }

Value no_attribute(const Value& obj, const std::string& name) {
  return Value::undefined("'" + object_repr(obj) + "' has no attribute '" + name + "'");
}

Value no_element(const Value& obj, const Value& key) {
  return Value::undefined("'" + object_repr(obj) + "' object has no element " + key.repr());
}

Value bound_method(const Value& obj, const std::string& name) {
  auto c = std::make_shared<CallableData>();
  c->name = name;
  c->fn = [obj, name](Renderer& r, CallArgs& args) { return call_method(r, obj, name, args); };
  return Value::callable(std::move(c));
}

// Python slice bounds for a sequence of n elements.
std::vector<size_t> slice_indices(size_t n, const Value* start, const Value* stop, const Value* step) {
  auto as_int = [](const Value* v, const char* what) -> std::optional<int64_t> {
    if (!v || v->is_none()) return std::nullopt;
    if (v->is_undefined()) throw ValueError(v->str());
    if (!v->is_int() && !v->is_bool())
      throw ValueError(std::string("slice ") + what + " must be an integer or None, not " + v->type_name());
    return v->get_int();
  };
  const int64_t len = static_cast<int64_t>(n);
  const int64_t st = as_int(step, "step").value_or(1);
  if (st == 0) throw ValueError("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x = std::max<int64_t>(x + len, st < 0 ? -1 : 0);
    return std::min<int64_t>(x, st < 0 ? len - 1 : len);
  };
  const int64_t b = clamp(as_int(start, "start"), st < 0 ? len - 1 : 0);
  const int64_t e = clamp(as_int(stop, "stop"), st < 0 ? -1 : len);
  std::vector<size_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) idx.push_back(static_cast<size_t>(i));
  return idx;
}

}  // namespace

Value Renderer::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw ValueError(obj.str());
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_')
    throw ValueError("access to attribute '" + name + "' of '" + obj.type_name() + "' object is unsafe.");
  switch (obj.kind()) {
    case Kind::Dict: {
      if (has_method(obj, name)) return bound_method(obj, name);
      const Value* v = obj.as_dict().find(std::string_view(name));
      return v ? *v : no_attribute(obj, name);
    }
    case Kind::Namespace: {
      const Value* v = obj.as_namespace().find(name);
      return v ? *v : no_attribute(obj, name);
    }
    case Kind::Loop:
    case Kind::String:
    case Kind::List:
      if (has_method(obj, name)) {
        if (obj.kind() == Kind::Loop && name != "cycle" && name != "changed") {
          CallArgs none;
          return call_method(*this, obj, name, none);  // a field such as loop.index
        }
        return bound_method(obj, name);
      }
      return no_attribute(obj, name);
    default: return no_attribute(obj, name);
  }
}

Value Renderer::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw ValueError(obj.str());
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    if (obj.is_list() && obj.as_list().flavor == ListData::kGenerator)
      throw ValueError("'generator' object is not subscriptable");
    const std::vector<std::string_view> cps = obj.is_string() ? text::code_points(obj.str()) : std::vector<std::string_view>{};
    const int64_t n = static_cast<int64_t>(obj.is_string() ? cps.size() : obj.as_list().items.size());
    int64_t i = key.get_int();
    if (i < 0) i += n;
    if (i < 0 || i >= n) return no_element(obj, key);
    if (obj.is_string()) return Value::string(std::string(cps[static_cast<size_t>(i)]));
    return obj.as_list().items[static_cast<size_t>(i)];
  }
  if (key.is_string()) {
    if (obj.kind() == Kind::Namespace || obj.kind() == Kind::Loop) return get_attr(obj, key.str());
    if (key.str().rfind("__", 0) == 0) return no_attribute(obj, key.str());
    if ((obj.is_dict() || obj.is_list() || obj.is_string()) && has_method(obj, key.str()))
      return bound_method(obj, key.str());
    return no_attribute(obj, key.str());
  }
  return no_element(obj, key);
}

Value Renderer::eval(const Expr& e, Scope& scope) {
  NestGuard guard(*this);
  try {
    Value v = eval_node(e, scope);
    count_work(1 + (v.is_string() ? v.str().size() / 4 : v.is_list() ? v.as_list().items.size() : 0));
    return v;
  } catch (const ValueError& err) {
    throw TemplateError(e.line, e.col, err.what());
  }
}

Value Renderer::eval_name(const Expr& e, Scope& scope) {
  if (const Value* v = scope.find(e.name)) return *v;
  Value g = find_global(e.name);
  if (!g.is_undefined()) return g;
  return Value::undefined("'" + e.name + "' is undefined");
}

void Renderer::eval_args(const Expr& e, size_t first, Scope& scope, CallArgs& out) {
  for (size_t i = first; i < e.kids.size(); ++i) {
    const std::string& name = e.arg_names[i - first];
    if (name.empty())
      out.pos.push_back(eval(*e.kids[i], scope));
    else
      out.kw.emplace_back(name, eval(*e.kids[i], scope));
  }
}

Value Renderer::eval_call(const Expr& e, Scope& scope) {
  const Expr& callee = *e.kids[0];
  CallArgs args;
  if (callee.kind == ExprKind::Attr) {  // obj.method(...) without making a bound method
    Value obj = eval(*callee.kids[0], scope);
    if ((obj.is_string() || obj.is_list() || obj.is_dict() || obj.kind() == Kind::Loop) &&
        has_method(obj, callee.name) && callee.name.rfind("__", 0) != 0) {
      eval_args(e, 1, scope, args);
      return call_method(*this, obj, callee.name, args);
    }
    Value f = get_attr(obj, callee.name);
    eval_args(e, 1, scope, args);
    return call(f, args);
  }
  Value f = eval(callee, scope);
  eval_args(e, 1, scope, args);
  return call(f, args);
}

Value Renderer::eval_slice(const Expr& e, Scope& scope) {
  const Value obj = eval(*e.kids[0], scope);
  Value parts[3];
  for (int i = 0; i < 3; ++i)
    if (e.kids[i + 1]) parts[i] = eval(*e.kids[i + 1], scope);
  auto part = [&](int i) { return e.kids[i + 1] ? &parts[i] : nullptr; };
  if (obj.is_undefined()) throw ValueError(obj.str());
  if (obj.is_string()) {
    const std::vector<std::string_view> cps = text::code_points(obj.str());
    std::string out;
    for (size_t i : slice_indices(cps.size(), part(0), part(1), part(2))) out += cps[i];
    return Value::string(std::move(out));
  }
  if (obj.is_list() && obj.as_list().flavor != ListData::kGenerator) {
    const auto& items = obj.as_list().items;
    std::vector<Value> out;
    for (size_t i : slice_indices(items.size(), part(0), part(1), part(2))) out.push_back(items[i]);
    return obj.as_list().flavor == ListData::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  throw ValueError("'" + obj.type_name() + "' object is not subscriptable");
}

Value Renderer::eval_chain(const Expr& e, Scope& scope) {
  Value acc = eval(*e.kids[0], scope);
  for (size_t i = 1; i < e.kids.size(); ++i) acc = binary_op(*this, e.ops[i - 1], acc, eval(*e.kids[i], scope));
  return acc;
}

Value Renderer::eval_compare(const Expr& e, Scope& scope) {
  Value left = eval(*e.kids[0], scope);
  for (size_t i = 1; i < e.kids.size(); ++i) {
    Value right = eval(*e.kids[i], scope);
    const std::string& op = e.ops[i - 1];
    if (right.is_list()) count_work(right.as_list().items.size());
    bool r;
    if (op == "==") r = equals(left, right);
    else if (op == "!=") r = !equals(left, right);
    else if (op == "in") r = contains(right, left);
    else if (op == "notin") r = !contains(right, left);
    else {
      if (left.is_undefined()) throw ValueError(left.str());
      if (right.is_undefined()) throw ValueError(right.str());
      const int c = compare(left, right);
      r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Renderer::eval_cond(const Expr& e, Scope& scope) {
  if (eval(*e.kids[1], scope).truthy()) return eval(*e.kids[0], scope);
  if (e.kids[2]) return eval(*e.kids[2], scope);
  return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                          " evaluated to false and no else section was defined.");
}

Value Renderer::eval_node(const Expr& e, Scope& scope) {
  switch (e.kind) {
    case ExprKind::Literal: return e.value;
    case ExprKind::Name: return eval_name(e, scope);
    case ExprKind::List:
    case ExprKind::Tuple: {
      std::vector<Value> items;
      items.reserve(e.kids.size());
      for (const ExprPtr& k : e.kids) items.push_back(eval(*k, scope));
      return e.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::Dict: {
      std::vector<std::pair<Value, Value>> items;
      for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
        Value k = eval(*e.kids[i], scope);
        if ((k.is_list() && k.as_list().flavor != ListData::kTuple) || k.is_dict() || k.is_undefined())
          throw ValueError("unhashable type: '" + k.type_name() + "'");
        items.emplace_back(std::move(k), eval(*e.kids[i + 1], scope));
      }
      return Value::dict(std::move(items));
    }
    case ExprKind::Attr: return get_attr(eval(*e.kids[0], scope), e.name);
    case ExprKind::Item: {
      Value obj = eval(*e.kids[0], scope);
      return get_item(obj, eval(*e.kids[1], scope));
    }
    case ExprKind::Slice: return eval_slice(e, scope);
    case ExprKind::Call: return eval_call(e, scope);
    case ExprKind::Filter: {
      Value operand = e.kids[0] ? eval(*e.kids[0], scope) : block_input_ ? *block_input_ : Value();
      CallArgs args;
      eval_args(e, 1, scope, args);
      return e.filter(*this, operand, args);
    }
    case ExprKind::Test: {
      Value operand = eval(*e.kids[0], scope);
      CallArgs args;
      eval_args(e, 1, scope, args);
      return Value::boolean(e.test(*this, operand, args) != e.negated);
    }
    case ExprKind::Neg:
    case ExprKind::Pos: {
      Value v = eval(*e.kids[0], scope);
      if (v.is_undefined()) throw ValueError(v.str());
      if (!v.is_number())
        throw ValueError(std::string("bad operand type for unary ") + (e.kind == ExprKind::Neg ? "-" : "+") + ": '" +
                         v.type_name() + "'");
      if (e.kind == ExprKind::Pos) return v.is_bool() ? Value::integer(v.get_int()) : v;
      if (v.is_float()) return Value::number(-v.get_float());
      if (v.get_int() == INT64_MIN) throw ValueError("integer overflow");
      return Value::integer(-v.get_int());
    }
    case ExprKind::Not: return Value::boolean(!eval(*e.kids[0], scope).truthy());
    case ExprKind::Chain: return eval_chain(e, scope);
    case ExprKind::Compare: return eval_compare(e, scope);
    case ExprKind::And:
    case ExprKind::Or: {
      Value v = eval(*e.kids[0], scope);
      for (size_t i = 1; i < e.kids.size(); ++i) {
        if (v.truthy() != (e.kind == ExprKind::And)) return v;
        v = eval(*e.kids[i], scope);
      }
      return v;
    }
    case ExprKind::Cond: return eval_cond(e, scope);
  }
  return {};
}

}  // namespace lmgen::chat
