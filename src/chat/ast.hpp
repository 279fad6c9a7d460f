// The syntax tree of a chat template: expressions (Expr) and statements (Stmt), built by the parser and walked by
// the renderer. Nodes own their children; every node knows its line and column for error messages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/value.hpp"

namespace lmgen::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
class Renderer;

// A filter or test implementation: operand, then the call's arguments.
using FilterFn = Value (*)(Renderer&, const Value&, CallArgs&);
using TestFn = bool (*)(Renderer&, const Value&, CallArgs&);

enum class ExprKind : uint8_t {
  Literal,   // value
  Name,      // name
  List,      // kids
  Tuple,     // kids
  Dict,      // kids: key0, value0, key1, value1, ...
  Attr,      // kids[0] . name
  Item,      // kids[0] [ kids[1] ]
  Slice,     // kids[0] [ kids[1] : kids[2] : kids[3] ] (null = omitted)
  Call,      // kids[0] ( kids[1..] ), arg_names parallel to the arguments ("" = positional)
  Filter,    // kids[0] | name ( kids[1..] ), filter
  Test,      // kids[0] is [not] name ( kids[1..] ), test, negated
  Neg,       // - kids[0]
  Pos,       // + kids[0]
  Not,       // not kids[0]
  Chain,     // kids[0] op0 kids[1] op1 kids[2] ... for + - * / // % ** ~ (left associative, one precedence)
  Compare,   // kids[0] op0 kids[1] op1 ... (Python chained comparison); ops "==", "in", "notin", ...
  And,       // kids[0] and kids[1] and ...
  Or,        // kids[0] or kids[1] or ...
  Cond,      // kids[0] if kids[1] else kids[2] (kids[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0, col = 0;
  int depth = 1;  // height of this subtree
  Value value;
  std::string name;
  std::vector<ExprPtr> kids;
  std::vector<std::string> ops;        // Chain / Compare operators
  std::vector<std::string> arg_names;  // Call / Filter / Test keyword names
  FilterFn filter = nullptr;
  TestFn test = nullptr;
  bool negated = false;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t {
  Text,         // text
  Output,       // {{ exprs[0] }}
  If,           // exprs: conditions; bodies: one per condition (+ else)
  For,          // names: targets; exprs[0]: iterable, exprs[1]: filter (may be null); bodies[0] body, bodies[1] else
  Set,          // names: targets (attr: ns.attr when not empty); exprs[0]
  SetBlock,     // names[0]; bodies[0]; exprs[0]: filter chain applied to the text (may be null)
  Macro,        // text: name; names: parameters; exprs: defaults (null = none); bodies[0]
  CallBlock,    // exprs[0]: the call; names/exprs[1..]: caller parameters/defaults; bodies[0]: caller body
  FilterBlock,  // exprs[0]: filter chain whose innermost operand is the rendered body; bodies[0]
  With,         // names / exprs: assignments; bodies[0]
  Break,
  Continue,
  Scope,        // bodies[0] rendered as is ({% generation %} of transformers)
};

struct Stmt {
  StmtKind kind;
  int line = 0, col = 0;
  std::string text;
  std::string attr;
  std::vector<std::string> names;
  std::vector<ExprPtr> exprs;
  std::vector<Body> bodies;
};

}  // namespace lmgen::chat
