// The Parser class shared by parser.cpp (statements) and parser_expr.cpp (expressions). Internal to the parser.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "chat/ast.hpp"
#include "chat/error.hpp"
#include "chat/lexer.hpp"
#include "chat/parser.hpp"

namespace lmgen::chat {

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParseOptions& opt) : toks_(std::move(tokens)), opt_(opt) {}
  Body parse_all();

  // Bounds the parser's own recursion (blocks inside blocks, parenthesised and unary expressions).
  struct DepthGuard {
    DepthGuard(Parser& p, const Token& at) : p_(p) {
      if (++p_.depth_ > p_.opt_.max_depth)
        p_.fail(at, "template nested deeper than " + std::to_string(p_.opt_.max_depth) + " levels");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

 private:
  friend struct DepthGuard;
  // tokens
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::Op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::Name && cur().text == n; }
  [[noreturn]] void fail(const Token& t, const std::string& what) const { throw TemplateError(t.line, t.col, what); }
  void expect(Tok type, const char* what);
  void expect_op(std::string_view op);
  void expect_name(std::string_view name);
  StmtPtr stmt(StmtKind k, const Token& at) const {
    auto s = std::make_unique<Stmt>();
    s->kind = k;
    s->line = at.line;
    s->col = at.col;
    return s;
  }
  ExprPtr expr(ExprKind k, const Token& at) const;
  ExprPtr expr(ExprKind k, int line, int col) const;
  ExprPtr& add_kid(Expr& parent, ExprPtr kid) const;  // appends and updates the parent's depth (bounded)

  // statements (parser.cpp)
  Body parse_body(std::initializer_list<std::string_view> ends);
  StmtPtr parse_statement();
  StmtPtr parse_if();
  StmtPtr parse_for();
  StmtPtr parse_set();
  StmtPtr parse_macro();
  StmtPtr parse_call_block();
  StmtPtr parse_filter_block();
  StmtPtr parse_with();
  void parse_params(Stmt& s);
  std::vector<std::string> parse_targets();
  void end_tag(std::string_view name);

  // expressions (parser_expr.cpp)
  ExprPtr parse_tuple(bool with_cond);
  ExprPtr parse_expression(bool with_cond);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_chain(int level);
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_collection(const Token& open);
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_filter_chain(ExprPtr operand, bool leading_pipe = true);
  ExprPtr parse_filter(ExprPtr operand);
  ExprPtr parse_test(ExprPtr operand);
  void parse_call_args(Expr& call);

  std::vector<Token> toks_;
  ParseOptions opt_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace lmgen::chat
