// What the reply parser reads for one generated token, for every front end that parses replies (the server, `lmgen
// chat --jsonl`, `--batch` lines): the text the detokenizer released; or, when calls are read, the text of a
// special token that is one of the format's call openers or closers (<|python_tag|>, [TOOL_CALLS], <|tool_call|>):
// the detokenizer drops special tokens from the text, and without its opener a call after other text is not read.
#pragma once

#include <string>

#include "lmgen/generator.hpp"
#include "lmgen/tokenizer.hpp"
#include "reply/format.hpp"

namespace lmgen::reply {

std::string parser_text(const ReplyFormat& format, bool read_calls, const Tokenizer& tok, const TokenEvent& ev);

}  // namespace lmgen::reply
