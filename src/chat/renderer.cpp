// The renderer's statements: text and {{ }} output, if, for (loop object, else, filter, break/continue), set
// (plain, unpacking, namespace attribute, block), macro and call blocks, filter and with blocks. Also the shared
// limit checks.
#include "chat/renderer.hpp"

#include <ctime>

#include "chat/error.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

const Value* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent)
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars)
    if (k == name) {
      old = std::move(v);
      return;
    }
  vars.emplace_back(name, std::move(v));
}

Renderer::NestGuard::NestGuard(Renderer& r) : r_(r) {
  // Every counted level is a few C++ frames: eval -> call -> macro body -> statement -> eval ...
  if (++r_.nest_ > r_.limits_.max_depth * 8) {
    --r_.nest_;
    throw ValueError("template evaluation nested deeper than " + std::to_string(r_.limits_.max_depth * 8) + " levels");
  }
}

void Renderer::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    throw ValueError("string longer than the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
}

void Renderer::check_items(size_t items) const {
  if (items > limits_.max_list_items)
    throw ValueError("list longer than the limit of " + std::to_string(limits_.max_list_items) + " items");
}

void Renderer::count_step() {
  if (++steps_ > limits_.max_loop_iterations)
    throw ValueError("more than " + std::to_string(limits_.max_loop_iterations) + " loop iterations and calls");
}

void Renderer::count_work(uint64_t units) {
  work_ += units;
  if (work_ > static_cast<uint64_t>(limits_.max_loop_iterations) * kWorkPerIteration)
    throw ValueError("template needs too much work (more than " + std::to_string(kWorkPerIteration) +
                     " units per allowed loop iteration)");
}

void Renderer::append(std::string& out, std::string_view text) const {
  if (out.size() + text.size() > limits_.max_output_bytes)
    throw ValueError("output longer than the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  out += text;
}

std::string Renderer::strftime_now(const std::string& format) const {
  if (options_.strftime_now) return options_.strftime_now(format);
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string buf(256 + format.size() * 8, '\0');
  if (format.empty() || buf.size() > 65536) return "";
  const size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &tm);
  buf.resize(n);
  return buf;
}

std::vector<Value> Renderer::iterate(const Value& v) const {
  switch (v.kind()) {
    case Kind::List: return v.as_list().items;
    case Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().items.size());
      for (const auto& [k, e] : v.as_dict().items) keys.push_back(k);
      return keys;
    }
    case Kind::String: {
      std::vector<Value> chars;
      for (std::string_view cp : text::code_points(v.str())) chars.push_back(Value::string(std::string(cp)));
      return chars;
    }
    case Kind::Undefined: return {};
    default: throw ValueError("'" + v.type_name() + "' object is not iterable");
  }
}

std::string Renderer::render(const Body& body, Scope& globals) {
  std::string out;
  exec(body, globals, out);
  return out;
}

Renderer::Flow Renderer::exec(const Body& body, Scope& scope, std::string& out) {
  for (const StmtPtr& s : body) {
    const Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_stmt(const Stmt& s, Scope& scope, std::string& out) {
  NestGuard guard(*this);
  try {
    switch (s.kind) {
      case StmtKind::Text: append(out, s.text); break;
      case StmtKind::Output: append(out, to_str(eval(*s.exprs[0], scope))); break;
      case StmtKind::If: return exec_if(s, scope, out);
      case StmtKind::For: return exec_for(s, scope, out);
      case StmtKind::Set: exec_set(s, scope); break;
      case StmtKind::SetBlock:
      case StmtKind::FilterBlock: {
        std::string text;
        Scope inner{&scope, {}};
        exec(s.bodies[0], s.kind == StmtKind::SetBlock ? scope : inner, text);
        Value v = Value::string(std::move(text));
        if (s.exprs[0]) {
          const Value* saved = block_input_;
          block_input_ = &v;
          Value filtered = eval(*s.exprs[0], scope);
          block_input_ = saved;
          v = std::move(filtered);
        }
        if (s.kind == StmtKind::SetBlock)
          scope.set(s.names[0], std::move(v));
        else
          append(out, to_str(v));
        break;
      }
      case StmtKind::Macro: {
        auto m = std::make_shared<CallableData>();
        m->name = s.text;
        m->macro = &s;
        m->closure = &scope;
        scope.set(s.text, Value::callable(std::move(m)));
        break;
      }
      case StmtKind::CallBlock: exec_call_block(s, scope, out); break;
      case StmtKind::With: {
        Scope inner{&scope, {}};
        for (size_t i = 0; i < s.names.size(); ++i) inner.set(s.names[i], eval(*s.exprs[i], scope));
        return exec(s.bodies[0], inner, out);
      }
      case StmtKind::Scope: return exec(s.bodies[0], scope, out);
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
    }
  } catch (const ValueError& e) {
    throw TemplateError(s.line, s.col, e.what());
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_if(const Stmt& s, Scope& scope, std::string& out) {
  for (size_t i = 0; i < s.exprs.size(); ++i)
    if (eval(*s.exprs[i], scope).truthy()) return exec(s.bodies[i], scope, out);
  if (s.bodies.size() > s.exprs.size()) return exec(s.bodies.back(), scope, out);
  return Flow::Normal;
}

void Renderer::bind(Scope& scope, const std::vector<std::string>& names, const Value& v) {
  if (names.size() == 1) return scope.set(names[0], v);
  std::vector<Value> items = iterate(v);
  if (items.size() != names.size())
    throw ValueError((items.size() < names.size() ? "not enough" : "too many") + std::string(" values to unpack (expected ") +
                     std::to_string(names.size()) + ", got " + std::to_string(items.size()) + ")");
  for (size_t i = 0; i < names.size(); ++i) scope.set(names[i], items[i]);
}

Renderer::Flow Renderer::exec_for(const Stmt& s, Scope& scope, std::string& out) {
  const Value seq = eval(*s.exprs[0], scope);
  auto items = std::make_shared<ListData>();
  if (seq.is_list() && !s.exprs[1]) {
    items->items = seq.as_list().items;
  } else {
    for (Value& v : iterate(seq)) {
      if (s.exprs[1]) {
        count_step();
        Scope probe{&scope, {}};
        bind(probe, s.names, v);
        if (!eval(*s.exprs[1], probe).truthy()) continue;
      }
      items->items.push_back(std::move(v));
    }
  }
  if (items->items.empty()) return s.bodies[1].empty() ? Flow::Normal : exec(s.bodies[1], scope, out);
  auto loop = std::make_shared<LoopData>();
  loop->items = items;
  const Value loop_value = Value::loop(loop);
  for (size_t i = 0; i < items->items.size(); ++i) {
    count_step();
    loop->index = i;
    Scope body{&scope, {}};
    body.vars.reserve(s.names.size() + 1);
    body.set("loop", loop_value);
    bind(body, s.names, items->items[i]);
    if (exec(s.bodies[0], body, out) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Renderer::exec_set(const Stmt& s, Scope& scope) {
  Value v = eval(*s.exprs[0], scope);
  if (s.attr.empty()) return bind(scope, s.names, v);
  const Value* target = scope.find(s.names[0]);
  if (!target || target->kind() != Kind::Namespace)
    throw ValueError("cannot assign attribute on non-namespace object");
  // Namespaces are the only mutable objects: they must not hold what could dangle (macros, loops) or form cycles.
  if (v.pinned()) throw ValueError("a namespace cannot hold a namespace, macro or loop object");
  target->as_namespace().set(s.attr, std::move(v));
}

void Renderer::exec_call_block(const Stmt& s, Scope& scope, std::string& out) {
  auto caller = std::make_shared<CallableData>();
  caller->name = "caller";
  caller->macro = &s;
  caller->closure = &scope;
  const Expr& call = *s.exprs[0];
  Value callee = eval(*call.kids[0], scope);
  CallArgs args;
  eval_args(call, 1, scope, args);
  args.kw.emplace_back("caller", Value::callable(std::move(caller)));
  append(out, to_str(this->call(callee, args)));
}

// Binds a macro's (or caller block's) parameters in a fresh scope under the definition scope and renders the body.
Value Renderer::call_macro(const CallableData& m, CallArgs& args) {
  if (macro_depth_ >= limits_.max_depth)
    throw ValueError("macro calls nested deeper than " + std::to_string(limits_.max_depth) + " levels");
  count_step();
  const Stmt& def = *m.macro;
  const size_t first_default = def.kind == StmtKind::CallBlock ? 1 : 0;
  Scope local{m.closure, {}};
  std::vector<Value> varargs;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < def.names.size())
      local.set(def.names[i], args.pos[i]);
    else
      varargs.push_back(args.pos[i]);
  }
  std::vector<std::pair<Value, Value>> kwargs;
  for (auto& [k, v] : args.kw) {
    bool param = k == "caller";
    for (size_t i = 0; i < def.names.size() && !param; ++i) param = def.names[i] == k;
    if (param)
      local.set(k, v);
    else
      kwargs.emplace_back(Value::string(k), v);
  }
  for (size_t i = 0; i < def.names.size(); ++i) {
    bool bound = false;
    for (const auto& [k, v] : local.vars) bound = bound || k == def.names[i];
    if (bound) continue;
    const Expr* d = def.exprs.size() > i + first_default ? def.exprs[i + first_default].get() : nullptr;
    local.set(def.names[i], d ? eval(*d, local) : Value::undefined("parameter '" + def.names[i] + "' was not provided"));
  }
  local.set("varargs", Value::tuple(std::move(varargs)));
  local.set("kwargs", Value::dict(std::move(kwargs)));
  std::string text;
  ++macro_depth_;
  try {
    exec(def.bodies[0], local, text);
  } catch (...) {
    --macro_depth_;
    throw;
  }
  --macro_depth_;
  return Value::string(std::move(text));
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) throw ValueError(callee.str());
  if (!callee.is_callable()) throw ValueError("'" + callee.type_name() + "' object is not callable");
  const CallableData& c = callee.as_callable();
  if (c.macro) return call_macro(c, args);
  count_step();
  return c.fn(*this, args);
}

}  // namespace lmgen::chat
