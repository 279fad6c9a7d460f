// Tokenizers from a GGUF file's tokenizer.ggml.* metadata (a vocab-only GGUF is enough), with llama.cpp
// semantics: "llama" vocabularies become the score-ordered SentencePiece-style tokenizer (spm_tokenizer.hpp),
// "gpt2" ones the byte-level BPE tokenizer (gguf_bpe_tokenizer.hpp). Tokens, types and special ids are read by
// gguf_vocab.hpp.
#include <cctype>
#include <cstring>

#include "format/gguf.hpp"
#include "lmgen/error.hpp"
#include "tokenizer/eog_texts.hpp"
#include "tokenizer/gguf_vocab.hpp"
#include "tokenizer/spm_tokenizer.hpp"
#include "tokenizer/gguf_bpe_tokenizer.hpp"
#include "tokenizer/builders.hpp"

namespace lmgen {

// ---------------------------------------------------------------------------------------------------------------
// SentencePiece-style ("llama")

namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

static std::unique_ptr<Tokenizer> make_gguf_spm_tokenizer(const GgufFile& g) {
  const std::string& path = g.path();
  std::vector<std::string> texts = read_gguf_tokens(g);
  const size_t n = texts.size();
  std::vector<float> scores;
  if (g.has("tokenizer.ggml.scores")) {
    scores = g.get_f32_array("tokenizer.ggml.scores");
    if (scores.size() != n)
      throw Error(path, "tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                            std::to_string(n) + " tokens");
  }
  std::vector<uint32_t> attrs(n, Vocab::kNormal);
  if (auto types = read_gguf_token_types(g, n))
    for (size_t i = 0; i < n; ++i)
      if (!Vocab::attr_from_token_type((*types)[i], attrs[i]))
        throw Error(path, "tokenizer.ggml.token_type[" + std::to_string(i) + "] = " + std::to_string((*types)[i]) +
                              " is not a token type (0..6)");

  SpmConfig c;
  c.source = path;
  c.bos = 1;
  c.eos = 2;
  c.unk = 0;
  auto read_id = [&](const char* name, int32_t& id) {
    auto v = read_gguf_special_id(g, name);
    if (!v) return;
    if (*v < -1 || *v >= static_cast<int64_t>(n))
      throw Error(path, "tokenizer.ggml." + std::string(name) + "_token_id = " + std::to_string(*v) +
                            " is out of range (vocabulary has " + std::to_string(n) + " tokens)");
    id = static_cast<int32_t>(*v);
  };
  read_id("bos", c.bos);
  read_id("eos", c.eos);
  read_id("unknown", c.unk);
  read_id("padding", c.pad);
  read_id("eot", c.eot);
  read_id("eom", c.eom);
  for (int32_t* id : {&c.bos, &c.eos, &c.unk})
    if (*id >= static_cast<int32_t>(n)) *id = -1;  // defaults beyond a tiny vocabulary
  c.add_bos = g.get_bool_opt("tokenizer.ggml.add_bos_token").value_or(true);
  c.add_eos = g.get_bool_opt("tokenizer.ggml.add_eos_token").value_or(false);
  c.add_space_prefix = g.get_bool_opt("tokenizer.ggml.add_space_prefix").value_or(true);

  // llama.cpp's per-model whitespace handling around special tokens (keyed on general.name).
  std::string name = lower(g.get_string_opt("general.name").value_or(""));
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (size_t i = 0; i < n; ++i)
      if (attrs[i] & (Vocab::kControl | Vocab::kUserDefined | Vocab::kUnknown)) attrs[i] |= Vocab::kRStrip;
    auto set = [&](const char* t, bool on) {
      for (size_t i = 0; i < n; ++i)
        if (texts[i] == t) attrs[i] = on ? (attrs[i] | Vocab::kRStrip) : (attrs[i] & ~Vocab::kRStrip);
    };
    set("</s>", true);
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, false);
  }

  Vocab v;
  v.assign(std::move(texts), std::move(scores), std::move(attrs));
  return std::make_unique<SpmTokenizer>(std::move(v), std::move(c));
}

// ---------------------------------------------------------------------------------------------------------------
// Byte-level BPE ("gpt2")

using namespace bpe;  // from here on this file builds GgufBpeTokenizer (on the bpe merge engine)

namespace {
// llama.cpp's end-of-generation and control tokens of a gpt2 vocabulary, and the special-token splitter's list.
void mark_gguf_specials(GgufBpeTokenizer& t, int32_t eot, int32_t eom) {
  Vocab& v = t.vocab_;
  // end-of-generation tokens recognised by their text (llama.cpp marks them as control tokens)
  for (std::string_view txt : eog_texts(EogFamily::ByteLevel)) {
    int32_t id = v.find(txt);
    if (id < 0) continue;
    t.eog_.insert(id);
    v.set_attr(id, Vocab::kControl);
  }
  for (std::string_view txt : {std::string_view("<|fim_pad|>"), std::string_view("<|repo_name|>"),
                                std::string_view("<|file_sep|>"), kEndOfSentenceText}) {
    int32_t id = v.find(txt);
    if (id < 0) continue;
    v.set_attr(id, Vocab::kControl);
    if (txt != kEndOfSentenceText || eot < 0) t.eog_.insert(id);
  }
  for (int32_t id : {t.eos_, eot, eom})
    if (id >= 0) t.eog_.insert(id);
  t.gguf_specials_ = special_texts(v);
}
}  // namespace

static std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  auto t = std::make_unique<GgufBpeTokenizer>();
  t->path_ = path;
  std::vector<std::string> texts = read_gguf_tokens(gguf);
  const int32_t n = static_cast<int32_t>(texts.size());
  std::vector<uint32_t> attrs(n, Vocab::kNormal);
  if (auto tt = read_gguf_token_types(gguf, texts.size()))
    for (int32_t i = 0; i < n; ++i)
      if (!Vocab::attr_from_token_type((*tt)[i], attrs[i])) attrs[i] = Vocab::kUndefined;
  t->vocab_.assign(std::move(texts), {}, std::move(attrs));  // text -> id: the last duplicate wins, as llama.cpp
  const Vocab& vocab = t->vocab_;

  LlamaCppPreType pre = llamacpp_pretokenizer(gguf.get_string_opt("tokenizer.ggml.pre").value_or(""), path);
  t->pretok_ = std::move(pre.pretok);
  t->ignore_merges_ = pre.ignore_merges;
  t->add_bos_ = pre.add_bos;
  t->clean_spaces_ = pre.clean_spaces;

  // merges "a b" -> rank (first occurrence wins, as llama.cpp's bpe_ranks.emplace)
  if (!gguf.has("tokenizer.ggml.merges")) throw Error(path, "tokenizer.ggml.merges missing (needed by a gpt2 tokenizer)");
  const auto& merges = gguf.get_string_array("tokenizer.ggml.merges");
  t->merges_.reserve(merges.size());
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    std::string_view m = merges[r];
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) continue;  // llama.cpp keeps an ("","") pair that can never apply
    int32_t a = vocab.find(m.substr(0, sp)), b = vocab.find(m.substr(sp + 1));
    if (a < 0 || b < 0) continue;
    joined.assign(m.data(), sp).append(m.substr(sp + 1));
    int32_t c = vocab.find(joined);
    if (c < 0) continue;
    t->merges_.insert(a, b, static_cast<int32_t>(r), c, false);
  }

  // special ids (llama.cpp defaults for gpt2 vocabularies: bos = eos = 11)
  auto sid = [&](const char* name, int32_t def) -> int32_t {
    auto v = read_gguf_special_id(gguf, name);
    if (v && *v >= 0 && *v < n) return static_cast<int32_t>(*v);
    return def < n ? def : -1;
  };
  t->bos_ = sid("bos", 11);
  t->eos_ = sid("eos", 11);
  int32_t eot = sid("eot", -1), eom = sid("eom", -1);
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_bos_token")) t->add_bos_ = *v;
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_eos_token")) t->add_eos_ = *v;

  mark_gguf_specials(*t, eot, eom);
  t->build_byte_ids();
  t->finish_pieces();
  if (t->ignore_merges_) {
    // control tokens written in printable ASCII are their own byte-level form: index them by that text too
    std::string raw;
    for (int32_t i = 0; i < n; ++i)
      if (!t->decoded_[i] && byte_level_decode(vocab.text(i), raw) && raw == vocab.text(i)) t->decoded_[i] = 1;
    t->raw_to_id_.init(&t->pieces_, n);
    for (int32_t i = 0; i < n; ++i)
      if (t->decoded_[i]) t->raw_to_id_.put(i);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------------

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& gguf) {
  std::string model = gguf.get_string_opt("tokenizer.ggml.model").value_or("");
  if (model == "llama") return make_gguf_spm_tokenizer(gguf);
  if (model == "gpt2") return make_gguf_bpe_tokenizer(gguf);
  if (model.empty()) throw Error(gguf.path(), "no tokenizer in this GGUF (tokenizer.ggml.model missing)");
  throw Error(gguf.path(), "unsupported tokenizer model '" + model + "' (supported: llama, gpt2)");
}

}  // namespace lmgen
