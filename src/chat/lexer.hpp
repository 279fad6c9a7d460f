// Chat-template lexer: template source -> tokens, with Jinja2's whitespace handling as Hugging Face configures it
// (trim_blocks and lstrip_blocks on, `-` and `+` modifiers on tags, newlines normalised to \n, one trailing
// newline dropped). Comments disappear here and {% raw %} blocks become text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmgen::chat {

enum class Tok : uint8_t { Text, BlockBegin, BlockEnd, VarBegin, VarEnd, Name, String, Int, Float, Op, End };

struct Token {
  Tok type;
  std::string text;  // Text: the data; Name/Op: the spelling; String: the decoded value; Int/Float: the digits
  int line = 1, col = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Throws TemplateError (with line and column) on an unterminated tag, comment, string or raw block, or on an
// unexpected character or bracket inside a tag.
std::vector<Token> tokenize(const std::string& source, const LexOptions& opt = {});

}  // namespace lmgen::chat
