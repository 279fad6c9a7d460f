// Reading the merge list of an HF tokenizer.json BPE model (see merges.hpp).
#include "tokenizer/hf/merges.hpp"

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

// The split of "a b" at its space; with several spaces, the one split whose two sides are both tokens.
size_t split_point(std::string_view s, const Vocab& vocab) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos || s.find(' ', sp + 1) == std::string_view::npos) return sp;
  // A token that itself contains spaces (e.g. a re-saved Llama-2 file whose U+00A0 tokens became ' ').
  size_t found = std::string_view::npos;
  for (size_t p = sp; p != std::string_view::npos; p = s.find(' ', p + 1)) {
    if (p > 0 && p + 1 < s.size() && vocab.find(s.substr(0, p)) >= 0 && vocab.find(s.substr(p + 1)) >= 0) {
      if (found != std::string_view::npos) return std::string_view::npos;  // ambiguous
      found = p;
    }
  }
  return found;
}

}  // namespace

void read_merges(const nlohmann::json& model, const std::string& path, const Vocab& vocab,
                 bpe::MergeTable& merges) {
  auto it = model.find("merges");
  if (it == model.end() || it->is_null()) return;
  const nlohmann::json& list = *it;
  if (!list.is_array()) throw Error(path, "model.merges is not an array");
  merges.reserve(list.size());
  std::string joined;
  for (size_t r = 0; r < list.size(); ++r) {
    const nlohmann::json& e = list[r];
    std::string_view a, b;
    if (e.is_string()) {
      std::string_view s = e.get_ref<const std::string&>();
      size_t sp = split_point(s, vocab);
      if (sp == std::string_view::npos)
        throw Error(path, "merge " + std::to_string(r) + " '" + std::string(s) +
                              "' is not two tokens separated by a space");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get_ref<const std::string&>();
      b = e[1].get_ref<const std::string&>();
    } else {
      throw Error(path, "merge " + std::to_string(r) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    joined.assign(a).append(b);
    int32_t ia = vocab.find(a), ib = vocab.find(b), ic = vocab.find(joined);
    if (ia < 0 || ib < 0 || ic < 0)
      throw Error(path, "merge " + std::to_string(r) + " ('" + std::string(a) + "' + '" + std::string(b) +
                            "') names a token not in the vocabulary");
    merges.insert(ia, ib, static_cast<int32_t>(r), ic, /*overwrite=*/true);
  }
}

}  // namespace lmgen
