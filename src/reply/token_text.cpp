// parser_text (token_text.hpp).
#include "reply/token_text.hpp"

namespace lmgen::reply {

std::string parser_text(const ReplyFormat& format, bool read_calls, const Tokenizer& tok, const TokenEvent& ev) {
  if (!read_calls || ev.kind != TokenEvent::Generated || !ev.text.empty() || ev.id < 0 || ev.id >= tok.n_vocab() ||
      !tok.is_special(ev.id))
    return ev.text;
  std::string marker = tok.token_to_piece(ev.id, true);
  return is_call_marker(format, marker) ? marker : ev.text;
}

}  // namespace lmgen::reply
