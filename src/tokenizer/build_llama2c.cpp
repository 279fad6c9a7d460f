// The tokenizer of a llama2.c tokenizer.bin (max token length, then per token: score, length, bytes): the
// score-ordered SentencePiece-style tokenizer (spm_tokenizer.hpp) with SentencePiece's decode.
#include <cstring>
#include <fstream>

#include "lmgen/error.hpp"
#include "tokenizer/spm_tokenizer.hpp"
#include "tokenizer/builders.hpp"
#include "util/read_file.hpp"

namespace lmgen {

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t n_vocab) {
  if (n_vocab <= 0) throw Error(path, "llama2.c tokenizer needs a positive vocabulary size");
  const std::string data = read_whole_file(path);
  size_t pos = 0;
  auto need = [&](size_t k, const std::string& what) {
    if (data.size() - pos < k) throw Error(path, "truncated llama2.c tokenizer (" + what + ")");
  };
  need(4, "header");
  pos += 4;  // max_token_length: not needed
  std::vector<std::string> texts(n_vocab);
  std::vector<float> scores(n_vocab);
  std::vector<uint32_t> attrs(n_vocab, Vocab::kNormal);
  for (int32_t i = 0; i < n_vocab; ++i) {
    std::string what = "token " + std::to_string(i) + " of " + std::to_string(n_vocab);
    need(8, what);
    float s;
    int32_t len;
    std::memcpy(&s, data.data() + pos, 4);
    std::memcpy(&len, data.data() + pos + 4, 4);
    pos += 8;
    if (len < 0) throw Error(path, "negative length for " + what);
    need(static_cast<size_t>(len), what);
    std::string t = data.substr(pos, static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
    scores[i] = s;
    uint8_t byte = 0;
    if (i == 0) {
      attrs[i] = Vocab::kUnknown;
      t = "<unk>";
    } else if (i == 1) {
      attrs[i] = Vocab::kControl;
      t = "<s>";  // stored as "\n<s>\n"
    } else if (i == 2) {
      attrs[i] = Vocab::kControl;
      t = "</s>";
    } else if (Vocab::parse_byte_piece(t, byte)) {
      attrs[i] = Vocab::kByte;
    } else {
      t = spm::escape_spaces(t);  // llama2.c stores "▁" as " "
      if (t.empty()) t = "[EMPTY_" + std::to_string(i) + "]";
    }
    texts[i] = std::move(t);
  }
  SpmConfig c;
  c.source = path;
  c.unk = 0;
  c.bos = n_vocab > 1 ? 1 : -1;
  c.eos = n_vocab > 2 ? 2 : -1;
  c.sentencepiece_decode = true;
  Vocab v;
  v.assign(std::move(texts), std::move(scores), std::move(attrs));
  return std::make_unique<SpmTokenizer>(std::move(v), std::move(c));
}

}  // namespace lmgen
