// The renderer: walks the statement tree of a parsed template with a context and produces the text. Owns the
// per-render state: variable scopes, output, and the counters that enforce Limits (loop iterations and macro
// calls, nesting of evaluation, output size). Filters, tests, globals and methods call back into it.
//
// Scopes live on the C++ stack of the block that opened them. A macro value keeps a pointer to the scope it was
// defined in; it cannot outlive that scope because assignments never leave their block's scope except through a
// namespace attribute, and namespaces refuse macros (and other namespaces and loop objects).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/ast.hpp"
#include "chat/template.hpp"
#include "chat/value.hpp"

namespace lmgen::chat {

struct Scope {
  Scope* parent = nullptr;
  std::vector<std::pair<std::string, Value>> vars;
  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value v);
};

class Renderer {
 public:
  Renderer(const Limits& limits, const RenderOptions& options) : limits_(limits), options_(options) {}

  std::string render(const Body& body, Scope& globals);

  // For filters, tests, globals and methods.
  const Limits& limits() const { return limits_; }
  void check_size(size_t bytes) const;      // throws ValueError if a string of `bytes` would exceed the limit
  void check_items(size_t items) const;     // the same for list lengths
  void count_step();                        // one loop iteration or call; throws past the limit
  // Work done by expressions: 1 per evaluation plus the size of the strings (per 4 bytes) and lists made, and of
  // the lists searched. Bounded by max_loop_iterations * kWorkPerIteration, so no template runs for long.
  void count_work(uint64_t units);
  static constexpr uint64_t kWorkPerIteration = 256;
  Value call(const Value& callee, CallArgs& args);
  std::string strftime_now(const std::string& format) const;
  std::vector<Value> iterate(const Value& v) const;  // Python iter(): list items, dict keys, str code points
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  std::string to_str(const Value& v) const { return v.to_str(limits_.max_output_bytes); }

 private:
  enum class Flow { Normal, Break, Continue };
  struct NestGuard {
    explicit NestGuard(Renderer& r);
    ~NestGuard() { --r_.nest_; }
    Renderer& r_;
  };

  // statements (renderer.cpp)
  Flow exec(const Body& body, Scope& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, Scope& scope, std::string& out);
  Flow exec_if(const Stmt& s, Scope& scope, std::string& out);
  Flow exec_for(const Stmt& s, Scope& scope, std::string& out);
  void exec_set(const Stmt& s, Scope& scope);
  void exec_call_block(const Stmt& s, Scope& scope, std::string& out);
  void append(std::string& out, std::string_view text) const;
  Value call_macro(const CallableData& m, CallArgs& args);
  void bind(Scope& scope, const std::vector<std::string>& names, const Value& v);

  // expressions (eval.cpp)
 public:
  Value eval(const Expr& e, Scope& scope);

 private:
  Value eval_node(const Expr& e, Scope& scope);
  Value eval_name(const Expr& e, Scope& scope);
  Value eval_call(const Expr& e, Scope& scope);
  Value eval_slice(const Expr& e, Scope& scope);
  Value eval_chain(const Expr& e, Scope& scope);
  Value eval_compare(const Expr& e, Scope& scope);
  Value eval_cond(const Expr& e, Scope& scope);
  void eval_args(const Expr& e, size_t first, Scope& scope, CallArgs& out);

  const Limits& limits_;
  const RenderOptions& options_;
  long steps_ = 0;
  uint64_t work_ = 0;
  int nest_ = 0;
  int macro_depth_ = 0;
  const Value* block_input_ = nullptr;  // the rendered body for {% filter %} / {% set x | f %}
};

// Python binary operators (operators.cpp): + - * / // % ** and ~ with int / float / str / list rules.
Value binary_op(const Renderer& r, std::string_view op, const Value& a, const Value& b);

}  // namespace lmgen::chat
