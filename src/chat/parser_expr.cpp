// Chat-template parser: expressions, in Jinja2's precedence order (lowest first):
//   a if c else b  <  or  <  and  <  not  <  comparisons, in, not in  <  + -  <  ~  <  * / // %  <  **
//   <  unary - +  <  primary with .attr [item] (call) and | filters / is tests.
// Runs of one binary precedence level become one Chain node (no deep trees for long `a ~ b ~ c ~ ...`).
#include <cerrno>
#include <cstdlib>

#include "chat/builtins.hpp"
#include "chat/parser_impl.hpp"

namespace lmgen::chat {

void Parser::expect(Tok type, const char* what) {
  if (cur().type != type) {
    const std::string got = cur().type == Tok::End ? "end of template" : "'" + cur().text + "'";
    fail(cur(), std::string("expected ") + what + ", got " + (cur().text.empty() && cur().type != Tok::End ? "a tag end" : got));
  }
  next();
}

void Parser::expect_op(std::string_view op) {
  if (!is_op(op)) fail(cur(), "expected '" + std::string(op) + "', got '" + cur().text + "'");
  next();
}

void Parser::expect_name(std::string_view name) {
  if (!is_name(name)) fail(cur(), "expected '" + std::string(name) + "', got '" + cur().text + "'");
  next();
}

ExprPtr Parser::expr(ExprKind k, int line, int col) const {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->line = line;
  e->col = col;
  return e;
}

ExprPtr Parser::expr(ExprKind k, const Token& at) const { return expr(k, at.line, at.col); }

ExprPtr& Parser::add_kid(Expr& parent, ExprPtr kid) const {
  if (kid && kid->depth + 1 > parent.depth) {
    parent.depth = kid->depth + 1;
    if (parent.depth > opt_.max_depth)
      throw TemplateError(parent.line, parent.col,
                          "expression nested deeper than " + std::to_string(opt_.max_depth) + " levels");
  }
  parent.kids.push_back(std::move(kid));
  return parent.kids.back();
}

ExprPtr Parser::parse_tuple(bool with_cond) {
  const Token start = cur();
  ExprPtr first = parse_expression(with_cond);
  if (!is_op(",")) return first;
  ExprPtr t = expr(ExprKind::Tuple, start);
  add_kid(*t, std::move(first));
  while (is_op(",")) {
    next();
    if (cur().type == Tok::BlockEnd || cur().type == Tok::VarEnd || is_op("=")) break;
    add_kid(*t, parse_expression(with_cond));
  }
  return t;
}

ExprPtr Parser::parse_expression(bool with_cond) {
  DepthGuard guard(*this, cur());
  ExprPtr e = parse_or();
  if (!with_cond) return e;
  while (is_name("if")) {
    const Token at = cur();
    next();
    ExprPtr c = expr(ExprKind::Cond, at);
    add_kid(*c, std::move(e));
    add_kid(*c, parse_or());
    if (is_name("else")) {
      next();
      add_kid(*c, parse_expression(true));
    } else {
      add_kid(*c, nullptr);
    }
    e = std::move(c);
  }
  return e;
}

ExprPtr Parser::parse_or() {
  ExprPtr e = parse_and();
  if (!is_name("or")) return e;
  ExprPtr n = expr(ExprKind::Or, e->line, e->col);
  add_kid(*n, std::move(e));
  while (is_name("or")) {
    next();
    add_kid(*n, parse_and());
  }
  return n;
}

ExprPtr Parser::parse_and() {
  ExprPtr e = parse_not();
  if (!is_name("and")) return e;
  ExprPtr n = expr(ExprKind::And, e->line, e->col);
  add_kid(*n, std::move(e));
  while (is_name("and")) {
    next();
    add_kid(*n, parse_not());
  }
  return n;
}

ExprPtr Parser::parse_not() {
  if (!is_name("not")) return parse_compare();
  DepthGuard guard(*this, cur());
  ExprPtr n = expr(ExprKind::Not, cur());
  next();
  add_kid(*n, parse_not());
  return n;
}

ExprPtr Parser::parse_compare() {
  ExprPtr e = parse_chain(0);
  ExprPtr n;
  for (;;) {
    std::string op;
    if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                  cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
      op = cur().text;
      next();
    } else if (is_name("in")) {
      op = "in";
      next();
    } else if (is_name("not") && peek(1).type == Tok::Name && peek(1).text == "in") {
      op = "notin";
      next();
      next();
    } else {
      break;
    }
    if (!n) {
      n = expr(ExprKind::Compare, e->line, e->col);
      add_kid(*n, std::move(e));
    }
    n->ops.push_back(op);
    add_kid(*n, parse_chain(0));
  }
  return n ? std::move(n) : std::move(e);
}

// Level 0: + -, level 1: ~, level 2: * / // %, level 3: ** (all left associative, as in Jinja2).
ExprPtr Parser::parse_chain(int level) {
  static constexpr std::string_view kOps[4][4] = {{"+", "-"}, {"~"}, {"*", "/", "//", "%"}, {"**"}};
  auto sub = [&] { return level == 3 ? parse_unary(true) : parse_chain(level + 1); };
  ExprPtr e = sub();
  ExprPtr n;
  for (;;) {
    bool match = false;
    if (cur().type == Tok::Op)
      for (std::string_view op : kOps[level]) match = match || (!op.empty() && cur().text == op);
    if (!match) break;
    if (!n) {
      n = expr(ExprKind::Chain, e->line, e->col);
      add_kid(*n, std::move(e));
    }
    n->ops.push_back(cur().text);
    next();
    add_kid(*n, sub());
  }
  return n ? std::move(n) : std::move(e);
}

ExprPtr Parser::parse_unary(bool with_filter) {
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    DepthGuard guard(*this, cur());
    node = expr(is_op("-") ? ExprKind::Neg : ExprKind::Pos, cur());
    next();
    add_kid(*node, parse_unary(false));
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
}

ExprPtr Parser::parse_primary() {
  const Token t = cur();
  switch (t.type) {
    case Tok::Name: {
      next();
      ExprPtr e = expr(ExprKind::Literal, t);
      if (t.text == "true" || t.text == "True") e->value = Value::boolean(true);
      else if (t.text == "false" || t.text == "False") e->value = Value::boolean(false);
      else if (t.text == "none" || t.text == "None") e->value = Value::none();
      else {
        e->kind = ExprKind::Name;
        e->name = t.text;
      }
      return e;
    }
    case Tok::String: {
      std::string s;
      while (cur().type == Tok::String) {  // adjacent literals concatenate
        s += cur().text;
        next();
      }
      ExprPtr e = expr(ExprKind::Literal, t);
      e->value = Value::string(std::move(s));
      return e;
    }
    case Tok::Int: {
      next();
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(t.text.c_str(), &end, 10);
      if (errno == ERANGE) fail(t, "integer literal too large: " + t.text);
      ExprPtr e = expr(ExprKind::Literal, t);
      e->value = Value::integer(v);
      return e;
    }
    case Tok::Float: {
      next();
      ExprPtr e = expr(ExprKind::Literal, t);
      e->value = Value::number(std::strtod(t.text.c_str(), nullptr));
      return e;
    }
    case Tok::Op:
      if (t.text == "(" || t.text == "[" || t.text == "{") return parse_collection(t);
      [[fallthrough]];
    default: fail(t, t.type == Tok::Op ? "unexpected '" + t.text + "'" : "expected an expression");
  }
}

// ( ... ) [ ... ] { ... }: parenthesised expression, tuple, list or dict.
ExprPtr Parser::parse_collection(const Token& open) {
  DepthGuard guard(*this, open);
  next();
  const std::string close = open.text == "(" ? ")" : open.text == "[" ? "]" : "}";
  ExprPtr e = expr(open.text == "(" ? ExprKind::Tuple : open.text == "[" ? ExprKind::List : ExprKind::Dict, open);
  bool trailing_comma = false;
  while (!is_op(close)) {
    if (!e->kids.empty()) {
      expect_op(",");
      trailing_comma = true;
      if (is_op(close)) break;
    }
    trailing_comma = false;
    add_kid(*e, parse_expression(true));
    if (e->kind == ExprKind::Dict) {
      expect_op(":");
      add_kid(*e, parse_expression(true));
    }
  }
  next();
  if (e->kind == ExprKind::Tuple && e->kids.size() == 1 && !trailing_comma) return std::move(e->kids[0]);
  return e;
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  for (;;) {
    if (is_op(".")) {
      const Token at = cur();
      next();
      if (cur().type == Tok::Name) {
        ExprPtr a = expr(ExprKind::Attr, at);
        a->name = cur().text;
        add_kid(*a, std::move(node));
        node = std::move(a);
      } else if (cur().type == Tok::Int) {
        ExprPtr a = expr(ExprKind::Item, at);
        add_kid(*a, std::move(node));
        ExprPtr k = expr(ExprKind::Literal, cur());
        k->value = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
        add_kid(*a, std::move(k));
        node = std::move(a);
      } else {
        fail(cur(), "expected an attribute name after '.'");
      }
      next();
    } else if (is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      ExprPtr c = expr(ExprKind::Call, node->line, node->col);
      add_kid(*c, std::move(node));
      parse_call_args(*c);
      node = std::move(c);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const Token at = cur();
  DepthGuard guard(*this, at);
  next();
  ExprPtr parts[3];
  int colons = 0;
  while (!is_op("]")) {
    if (is_op(":")) {
      if (++colons > 2) fail(cur(), "too many ':' in a slice");
      next();
      continue;
    }
    if (parts[colons]) fail(cur(), "expected ']'");
    parts[colons] = parse_expression(true);
  }
  next();
  if (colons == 0) {
    if (!parts[0]) fail(at, "expected a subscript");
    ExprPtr e = expr(ExprKind::Item, at);
    add_kid(*e, std::move(node));
    add_kid(*e, std::move(parts[0]));
    return e;
  }
  ExprPtr e = expr(ExprKind::Slice, at);
  add_kid(*e, std::move(node));
  for (auto& p : parts) add_kid(*e, std::move(p));
  return e;
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  for (;;) {
    if (is_op("|")) {
      node = parse_filter_chain(std::move(node));
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      ExprPtr c = expr(ExprKind::Call, node->line, node->col);
      add_kid(*c, std::move(node));
      parse_call_args(*c);
      node = std::move(c);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_chain(ExprPtr operand, bool leading_pipe) {
  if (!leading_pipe) operand = parse_filter(std::move(operand));
  while (is_op("|")) {
    next();
    operand = parse_filter(std::move(operand));
  }
  return operand;
}

ExprPtr Parser::parse_filter(ExprPtr operand) {
  const Token name = cur();
  if (name.type != Tok::Name) fail(name, "expected a filter name");
  ExprPtr f = expr(ExprKind::Filter, name);
  f->name = name.text;
  f->filter = find_filter(name.text);
  if (!f->filter) fail(name, "unknown filter '" + name.text + "'");
  next();
  add_kid(*f, std::move(operand));
  if (is_op("(")) parse_call_args(*f);
  return f;
}

ExprPtr Parser::parse_test(ExprPtr operand) {
  next();  // is
  bool negated = false;
  if (is_name("not")) {
    negated = true;
    next();
  }
  const Token name = cur();
  if (name.type != Tok::Name) fail(name, "expected a test name");
  ExprPtr t = expr(ExprKind::Test, name);
  t->name = name.text;
  t->negated = negated;
  t->test = find_test(name.text);
  if (!t->test) fail(name, "unknown test '" + name.text + "'");
  next();
  add_kid(*t, std::move(operand));
  if (is_op("(")) {
    parse_call_args(*t);
  } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
              cur().type == Tok::Float || is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail(cur(), "you cannot chain multiple tests with is");
    add_kid(*t, parse_postfix(parse_primary()));
    t->arg_names.emplace_back();
  }
  return t;
}

void Parser::parse_call_args(Expr& call) {
  DepthGuard guard(*this, cur());
  next();  // (
  bool first = true;
  while (!is_op(")")) {
    if (!first) {
      expect_op(",");
      if (is_op(")")) break;
    }
    first = false;
    if (is_op("*") || is_op("**")) fail(cur(), "*args and **kwargs in calls are not supported");
    if (cur().type == Tok::Name && peek(1).type == Tok::Op && peek(1).text == "=") {
      call.arg_names.push_back(cur().text);
      next();
      next();
    } else {
      if (!call.arg_names.empty() && !call.arg_names.back().empty())
        fail(cur(), "positional argument follows keyword argument");
      call.arg_names.emplace_back();
    }
    add_kid(call, parse_expression(true));
  }
  next();
}

}  // namespace lmgen::chat
