// Chat-template parser (see parser.hpp): statements.  Expressions are in parser_expr.cpp.
#include "chat/parser.hpp"

#include "chat/parser_impl.hpp"

namespace lmgen::chat {

Body Parser::parse_all() {
  Body body = parse_body({});
  return body;
}

// Statements until a block tag whose keyword is in `ends` (left as the current token) or the end of input.
Body Parser::parse_body(std::initializer_list<std::string_view> ends) {
  Body body;
  for (;;) {
    const Token& t = cur();
    if (t.type == Tok::End) {
      if (ends.size() == 0) return body;
      fail(t, "unexpected end of template, expected '" + std::string(*ends.begin()) + "'");
    }
    if (t.type == Tok::Text) {
      auto s = stmt(StmtKind::Text, t);
      s->text = t.text;
      body.push_back(std::move(s));
      next();
    } else if (t.type == Tok::VarBegin) {
      auto s = stmt(StmtKind::Output, t);
      next();
      s->exprs.push_back(parse_tuple(true));
      expect(Tok::VarEnd, "end of print statement");
      body.push_back(std::move(s));
    } else if (t.type == Tok::BlockBegin) {
      const Token& kw = peek(1);
      if (kw.type != Tok::Name) fail(kw, "expected a statement name after {%");
      for (std::string_view e : ends)
        if (kw.text == e) {
          next();
          return body;
        }
      next();
      body.push_back(parse_statement());
    } else {
      fail(t, "unexpected token");
    }
  }
}

void Parser::end_tag(std::string_view name) {
  expect_name(name);
  expect(Tok::BlockEnd, "end of statement block");
}

StmtPtr Parser::parse_statement() {
  DepthGuard guard(*this, cur());
  const Token& kw = cur();
  const std::string& k = kw.text;
  if (k == "if") return parse_if();
  if (k == "for") return parse_for();
  if (k == "set") return parse_set();
  if (k == "macro") return parse_macro();
  if (k == "call") return parse_call_block();
  if (k == "filter") return parse_filter_block();
  if (k == "with") return parse_with();
  if (k == "generation") {
    auto s = stmt(StmtKind::Scope, kw);
    next();
    expect(Tok::BlockEnd, "end of statement block");
    s->bodies.push_back(parse_body({"endgeneration"}));
    end_tag("endgeneration");
    return s;
  }
  if (k == "break" || k == "continue") {
    if (loop_depth_ == 0) fail(kw, "'" + k + "' outside of a loop");
    auto s = stmt(k == "break" ? StmtKind::Break : StmtKind::Continue, kw);
    next();
    expect(Tok::BlockEnd, "end of statement block");
    return s;
  }
  fail(kw, "unknown tag '" + k + "'");
}

StmtPtr Parser::parse_if() {
  auto s = stmt(StmtKind::If, cur());
  next();
  for (;;) {
    s->exprs.push_back(parse_tuple(false));
    expect(Tok::BlockEnd, "end of statement block");
    s->bodies.push_back(parse_body({"elif", "else", "endif"}));
    const std::string kw = cur().text;
    next();
    if (kw == "elif") continue;
    if (kw == "else") {
      expect(Tok::BlockEnd, "end of statement block");
      s->bodies.push_back(parse_body({"endif"}));
      next();
    }
    expect(Tok::BlockEnd, "end of statement block");
    return s;
  }
}

std::vector<std::string> Parser::parse_targets() {
  std::vector<std::string> names;
  const bool paren = is_op("(");
  if (paren) next();
  do {
    if (!names.empty()) next();
    if (cur().type != Tok::Name) fail(cur(), "expected a name to assign to");
    names.push_back(cur().text);
    next();
  } while (is_op(","));
  if (paren) expect_op(")");
  return names;
}

StmtPtr Parser::parse_for() {
  auto s = stmt(StmtKind::For, cur());
  next();
  s->names = parse_targets();
  expect_name("in");
  s->exprs.push_back(parse_tuple(false));
  s->exprs.emplace_back();
  if (cur().type == Tok::Name && cur().text == "if") {
    next();
    s->exprs[1] = parse_expression(true);
  }
  if (cur().type == Tok::Name && cur().text == "recursive") fail(cur(), "recursive loops are not supported");
  expect(Tok::BlockEnd, "end of statement block");
  ++loop_depth_;
  s->bodies.push_back(parse_body({"endfor", "else"}));
  --loop_depth_;
  s->bodies.emplace_back();
  if (cur().text == "else") {
    next();
    expect(Tok::BlockEnd, "end of statement block");
    s->bodies[1] = parse_body({"endfor"});
  }
  end_tag("endfor");
  return s;
}

StmtPtr Parser::parse_set() {
  auto s = stmt(StmtKind::Set, cur());
  next();
  if (cur().type == Tok::Name && peek(1).type == Tok::Op && peek(1).text == ".") {
    s->names.push_back(cur().text);
    next();
    next();
    if (cur().type != Tok::Name) fail(cur(), "expected an attribute name");
    s->attr = cur().text;
    next();
  } else {
    s->names = parse_targets();
  }
  if (is_op("=")) {
    next();
    s->exprs.push_back(parse_tuple(true));
    expect(Tok::BlockEnd, "end of statement block");
    return s;
  }
  if (s->names.size() != 1 || !s->attr.empty()) fail(cur(), "expected '='");
  s->kind = StmtKind::SetBlock;
  s->exprs.push_back(is_op("|") ? parse_filter_chain(nullptr) : nullptr);
  expect(Tok::BlockEnd, "end of statement block");
  const int saved = loop_depth_;
  loop_depth_ = 0;
  s->bodies.push_back(parse_body({"endset"}));
  loop_depth_ = saved;
  end_tag("endset");
  return s;
}

// "(a, b=1, c='x')" -> names and default expressions (null where none).
void Parser::parse_params(Stmt& s) {
  expect_op("(");
  while (!is_op(")")) {
    if (!s.names.empty()) expect_op(",");
    if (is_op(")")) break;
    if (cur().type != Tok::Name) fail(cur(), "expected a parameter name");
    s.names.push_back(cur().text);
    next();
    if (is_op("=")) {
      next();
      s.exprs.push_back(parse_expression(true));
    } else {
      s.exprs.emplace_back();
    }
  }
  next();
}

StmtPtr Parser::parse_macro() {
  auto s = stmt(StmtKind::Macro, cur());
  next();
  if (cur().type != Tok::Name) fail(cur(), "expected a macro name");
  s->text = cur().text;
  next();
  parse_params(*s);
  expect(Tok::BlockEnd, "end of statement block");
  const int saved = loop_depth_;
  loop_depth_ = 0;
  s->bodies.push_back(parse_body({"endmacro"}));
  loop_depth_ = saved;
  end_tag("endmacro");
  return s;
}

StmtPtr Parser::parse_call_block() {
  auto s = stmt(StmtKind::CallBlock, cur());
  next();
  Stmt params;
  params.kind = StmtKind::Macro;
  if (is_op("(")) parse_params(params);
  ExprPtr call = parse_expression(true);
  if (call->kind != ExprKind::Call) fail(cur(), "expected a call after {% call");
  s->exprs.push_back(std::move(call));
  s->names = std::move(params.names);
  for (auto& e : params.exprs) s->exprs.push_back(std::move(e));
  expect(Tok::BlockEnd, "end of statement block");
  const int saved = loop_depth_;
  loop_depth_ = 0;
  s->bodies.push_back(parse_body({"endcall"}));
  loop_depth_ = saved;
  end_tag("endcall");
  return s;
}

StmtPtr Parser::parse_filter_block() {
  auto s = stmt(StmtKind::FilterBlock, cur());
  next();
  s->exprs.push_back(parse_filter_chain(nullptr, false));
  expect(Tok::BlockEnd, "end of statement block");
  s->bodies.push_back(parse_body({"endfilter"}));
  end_tag("endfilter");
  return s;
}

StmtPtr Parser::parse_with() {
  auto s = stmt(StmtKind::With, cur());
  next();
  while (cur().type != Tok::BlockEnd) {
    if (!s->names.empty()) expect_op(",");
    if (cur().type != Tok::Name) fail(cur(), "expected a name to assign to");
    s->names.push_back(cur().text);
    next();
    expect_op("=");
    s->exprs.push_back(parse_expression(true));
  }
  next();
  s->bodies.push_back(parse_body({"endwith"}));
  end_tag("endwith");
  return s;
}

Body parse_template(const std::string& source, const ParseOptions& opt) {
  Parser p(tokenize(source), opt);
  return p.parse_all();
}

}  // namespace lmgen::chat
