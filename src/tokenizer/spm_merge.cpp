// llama.cpp's score-ordered bigram merging and the "▁" helpers (spm_merge.hpp).
#include "tokenizer/spm_merge.hpp"

#include <queue>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen::spm {

namespace {
struct Symbol {
  int32_t start;  // byte offset in the text
  int32_t len;    // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};
struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  int32_t size;  // byte length of the joined text (detects stale entries)
};
struct BigramOrder {
  // Highest score first; on equal scores the leftmost pair first.
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};
}  // namespace

ScoreMergePrep::ScoreMergePrep(const Vocab& vocab) {
  word_split = true;
  for (const std::string& t : vocab.texts()) word_split = word_split && space_only_leading(t);
  for (int b = 0; b < 256; ++b) {
    int32_t id = vocab.byte_piece_id(static_cast<uint8_t>(b));
    if (id < 0) {
      char c = static_cast<char>(b);
      id = vocab.find(std::string_view(&c, 1));
    }
    byte_id[b] = id;
  }
}

void encode_score_merge(const Vocab& vocab, const ScoreMergePrep& prep, std::string_view text,
                        std::vector<int32_t>& out, int32_t unk_fallback) {
  if (text.empty()) return;
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  // Chunks that can be merged independently: with a word_split vocabulary, a "▁" that follows another character
  // starts a new chunk (no token contains "x▁"), which keeps the queue small on long inputs.
  std::vector<int32_t> chunk_start = {0};
  for (size_t off = 0; off < text.size();) {
    size_t n = std::min(utf8::lead_len(static_cast<unsigned char>(text[off])), text.size() - off);
    int32_t idx = static_cast<int32_t>(sym.size());
    if (prep.word_split && idx > 0 && text.substr(off, n) == kSpace &&
        text.substr(sym[idx - 1].start, sym[idx - 1].len) != kSpace)
      chunk_start.push_back(idx);
    sym.push_back({static_cast<int32_t>(off), static_cast<int32_t>(n), idx - 1, idx + 1});
    off += n;
  }
  chunk_start.push_back(static_cast<int32_t>(sym.size()));
  std::vector<Bigram> storage;
  storage.reserve(64);
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue(BigramOrder{}, std::move(storage));
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    std::string_view joined = text.substr(sym[l].start, sym[l].len + sym[r].len);
    int32_t id = vocab.find(joined);
    if (id < 0) return;
    queue.push({vocab.score(id), l, r, static_cast<int32_t>(joined.size())});
  };
  for (size_t c = 0; c + 1 < chunk_start.size(); ++c) {
    const int32_t a = chunk_start[c], b = chunk_start[c + 1];
    sym[a].prev = -1;
    sym[b - 1].next = -1;
    for (int32_t i = a + 1; i < b; ++i) try_add(i - 1, i);
    while (!queue.empty()) {
      Bigram g = queue.top();
      queue.pop();
      Symbol& l = sym[g.left];
      Symbol& r = sym[g.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != g.size) continue;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = g.left;
      try_add(l.prev, g.left);
      try_add(g.left, l.next);
    }
    for (int32_t i = a; i != -1; i = sym[i].next) {
      std::string_view piece = text.substr(sym[i].start, sym[i].len);
      int32_t id = vocab.find(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      // Merged symbols are always tokens, so this is a single character missing from the vocabulary.
      for (unsigned char ch : piece) {
        int32_t bid = prep.byte_id[ch];
        if (bid < 0) bid = unk_fallback;
        if (bid < 0)
          throw Error("tokenizer: no byte-fallback token for byte " + std::to_string(ch) + " and no <unk>");
        out.push_back(bid);
      }
    }
  }
}

bool space_only_leading(std::string_view t) {
  size_t i = 0;
  while (t.compare(i, kSpace.size(), kSpace) == 0) i += kSpace.size();
  return t.find(kSpace, i) == std::string_view::npos;
}

std::string escape_spaces(std::string_view s) {
  std::string r;
  r.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    if (c == ' ')
      r += kSpace;
    else
      r += c;
  }
  return r;
}

std::string unescape_spaces(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, kSpace.size(), kSpace) == 0) {
      r += ' ';
      i += kSpace.size();
    } else {
      r += s[i++];
    }
  }
  return r;
}

}  // namespace lmgen::spm
