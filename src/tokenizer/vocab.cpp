// The vocabulary table (vocab.hpp).
#include "tokenizer/vocab.hpp"

namespace lmgen {

bool Vocab::attr_from_token_type(int32_t type, uint32_t& attr) {
  switch (type) {
    case 0: attr = kUndefined; return true;
    case 1: attr = kNormal; return true;
    case 2: attr = kUnknown; return true;
    case 3: attr = kControl; return true;
    case 4: attr = kUserDefined; return true;
    case 5: attr = kUnused; return true;
    case 6: attr = kByte; return true;
    default: return false;
  }
}

bool Vocab::parse_byte_piece(std::string_view t, uint8_t& out) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return false;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return false;
  out = static_cast<uint8_t>(hi * 16 + lo);
  return true;
}

Vocab& Vocab::operator=(Vocab&& o) noexcept {
  if (this == &o) return *this;
  text_ = std::move(o.text_);
  score_ = std::move(o.score_);
  attr_ = std::move(o.attr_);
  index_ = std::move(o.index_);
  index_.rebind(&text_);
  o.text_.clear();
  o.score_.clear();
  o.attr_.clear();
  o.index_ = bpe::StrIdMap();
  return *this;
}

void Vocab::assign(std::vector<std::string> texts, std::vector<float> scores, std::vector<uint32_t> attrs) {
  text_ = std::move(texts);
  score_ = std::move(scores);
  attr_ = std::move(attrs);
  score_.resize(text_.size(), 0.0f);
  attr_.resize(text_.size(), kNormal);
  index_.init(&text_, text_.size());
  for (int32_t i = 0; i < size(); ++i) index_.put(i);
}

void Vocab::assign_empty(size_t n, size_t n_indexed) {
  text_.assign(n, std::string());
  score_.assign(n, 0.0f);
  attr_.assign(n, kNormal);
  index_.init(&text_, n_indexed);
}

void Vocab::set_text(int32_t id, std::string_view text, bool index) {
  text_[id] = text;
  if (index) index_.put(id);
}

int32_t Vocab::byte_piece_id(uint8_t b) const {
  static const char* hexd = "0123456789ABCDEF";
  const char buf[6] = {'<', '0', 'x', hexd[b >> 4], hexd[b & 15], '>'};
  return find(std::string_view(buf, 6));
}

}  // namespace lmgen
