// Chat-template parser: tokens -> statement tree (ast.hpp). Recursive descent in Jinja2's precedence order;
// unknown filters and tests are syntax errors. Nesting of blocks and of expressions is bounded by max_depth so that
// neither the parser nor the renderer can run out of stack.
#pragma once

#include <string>

#include "chat/ast.hpp"
#include "chat/lexer.hpp"

namespace lmgen::chat {

struct ParseOptions {
  int max_depth = 64;
};

// Throws TemplateError with line and column on any syntax error.
Body parse_template(const std::string& source, const ParseOptions& opt = {});

}  // namespace lmgen::chat
