// The tokenizer.* keys of a converted model, from the HF directory's tokenizer.json, tokenizer_config.json
// (chat_template, special tokens, add_bos_token / add_eos_token), chat_template.jinja and config.json (special
// token ids the tokenizer config leaves out), as llama.cpp's converter writes them:
//   * byte-level BPE (tokenizer.json model BPE without byte_fallback): tokenizer.ggml.model "gpt2", tokens, merges
//     ("a b"), token_type, and tokenizer.ggml.pre from the architecture (qwen2/qwen3 "qwen2", llama "llama-bpe",
//     gpt2 "gpt-2", gptneox "olmo": the names llama.cpp gives those models' pre-tokenizers);
//   * SentencePiece-style BPE (model BPE with byte_fallback: llama 2, gemma, phi3): tokenizer.ggml.model "llama",
//     pre "default", tokens, token_type and scores. tokenizer.json has merges, not SentencePiece scores: a token
//     made by merge number r gets score -r, so merging the highest score first merges in rank order as HF does;
//     add_space_prefix false when the normalizer does not prepend "▁" (gemma).
// token_type: 1 normal, 2 unknown, 3 control (special added tokens, and added "<|...|>" tokens), 4 user-defined
// (other added tokens), 6 byte; rows of the embedding past the tokenizer's vocabulary are named "[PADi]" and typed
// 5 unused (BPE) / 2 unknown (SentencePiece-style), as llama.cpp's converter does.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "convert/convert.hpp"
#include "lmgen/error.hpp"
#include "util/json_file.hpp"
#include "util/read_file.hpp"

namespace lmgen {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p, bool required) {
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    if (required) throw Error(p.string(), "missing (a tokenizer.json is needed to convert)");
    return json::object();
  }
  return read_json_object_file(p.string());
}

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::unordered_map<std::string, int64_t> ids;
};

bool is_byte_token(const std::string& s) {
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>';
}

Vocab read_vocab(const json& tok, int64_t n_vocab, bool spm, const std::string& src) {
  const json& model = tok.at("model");
  Vocab v;
  v.tokens.resize(static_cast<size_t>(n_vocab));
  v.types.assign(static_cast<size_t>(n_vocab), 0);
  auto put = [&](const std::string& s, int64_t id, int32_t type) {
    if (id < 0 || id >= n_vocab) throw Error(src, "token id " + std::to_string(id) + " is outside the model's " +
                                                      std::to_string(n_vocab) + " embedding rows");
    v.tokens[static_cast<size_t>(id)] = s;
    v.types[static_cast<size_t>(id)] = type;
    v.ids[s] = id;
  };
  const std::string unk = model.value("unk_token", json()).is_string() ? model["unk_token"].get<std::string>() : "";
  for (const auto& [s, id] : model.at("vocab").items())
    put(s, id.get<int64_t>(), s == unk && spm ? 2 : spm && is_byte_token(s) ? 6 : 1);
  for (const json& t : tok.value("added_tokens", json::array())) {
    const std::string s = t.at("content").get<std::string>();
    const bool control = t.value("special", false) || (s.size() > 4 && s.compare(0, 2, "<|") == 0 &&
                                                       s.compare(s.size() - 2, 2, "|>") == 0);
    put(s, t.at("id").get<int64_t>(), s == unk && spm ? 2 : control ? 3 : 4);
  }
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] == 0) {
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
      v.types[i] = spm ? 2 : 5;  // as llama.cpp's converter marks them
    }
  return v;
}

std::vector<std::string> read_merges(const json& model) {
  std::vector<std::string> merges;
  for (const json& m : model.value("merges", json::array()))
    merges.push_back(m.is_string() ? m.get<std::string>()
                                   : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
  return merges;
}

// -rank of the merge that makes each token (0 for tokens no merge makes).
std::vector<float> merge_scores(const Vocab& v, const std::vector<std::string>& merges) {
  std::vector<float> scores(v.tokens.size(), 0.0f);
  std::vector<bool> set(v.tokens.size(), false);
  for (size_t r = 0; r < merges.size(); ++r) {
    const size_t sp = merges[r].find(' ');
    auto it = v.ids.find(merges[r].substr(0, sp) + merges[r].substr(sp + 1));
    if (it == v.ids.end() || set[static_cast<size_t>(it->second)]) continue;
    scores[static_cast<size_t>(it->second)] = -static_cast<float>(r);
    set[static_cast<size_t>(it->second)] = true;
  }
  return scores;
}

bool prepends_space(const json& normalizer) {
  if (!normalizer.is_object()) return false;
  if (normalizer.value("type", "") == "Prepend") return true;
  for (const json& n : normalizer.value("normalizers", json::array()))
    if (prepends_space(n)) return true;
  return false;
}

std::string bpe_pre(const std::string& arch, const std::string& src) {
  if (arch == "qwen2" || arch == "qwen3") return "qwen2";
  if (arch == "llama") return "llama-bpe";
  if (arch == "gpt2") return "gpt-2";
  if (arch == "gptneox") return "olmo";
  throw Error(src, "convert: no llama.cpp pre-tokenizer name known for a byte-level BPE " + arch + " tokenizer");
}

// The id of a special token named in tokenizer_config.json (a string or {"content": ...}), else config.json's id.
void special_id(GgufWriter& w, const char* key, const json& tcfg, const char* tcfg_key, const json& cfg,
                const char* cfg_key, const Vocab& v) {
  const json t = tcfg.value(tcfg_key, json());
  const std::string content = t.is_string() ? t.get<std::string>() : t.is_object() ? t.value("content", "") : "";
  if (auto it = v.ids.find(content); !content.empty() && it != v.ids.end()) {
    w.set_u32(key, static_cast<uint32_t>(it->second));
    return;
  }
  json id = cfg_key ? cfg.value(cfg_key, json()) : json();
  if (id.is_array() && !id.empty()) id = id.front();
  if (id.is_number_integer() && id.get<int64_t>() >= 0) w.set_u32(key, static_cast<uint32_t>(id.get<int64_t>()));
}

}  // namespace

void write_gguf_vocab(GgufWriter& w, const std::string& hf_dir, const ModelConfig& c) {
  const fs::path dir(hf_dir);
  const json tok = read_json(dir / "tokenizer.json", true);
  const json tcfg = read_json(dir / "tokenizer_config.json", false);
  const json cfg = read_json(dir / "config.json", false);
  const std::string src = (dir / "tokenizer.json").string();
  const json& model = tok.at("model");
  if (model.value("type", "BPE") != "BPE")
    throw Error(src, "convert: only BPE tokenizers are supported (found " + model.value("type", "") + ")");
  const bool spm = model.value("byte_fallback", false);
  Vocab v = read_vocab(tok, c.n_vocab, spm, src);
  const std::vector<std::string> merges = read_merges(model);
  w.set_string("tokenizer.ggml.model", spm ? "llama" : "gpt2");
  w.set_string("tokenizer.ggml.pre", spm ? "default" : bpe_pre(c.arch, src));
  w.set_string_array("tokenizer.ggml.tokens", v.tokens);
  if (spm) w.set_f32_array("tokenizer.ggml.scores", merge_scores(v, merges));
  w.set_i32_array("tokenizer.ggml.token_type", v.types);
  if (!spm) w.set_string_array("tokenizer.ggml.merges", merges);
  special_id(w, "tokenizer.ggml.bos_token_id", tcfg, "bos_token", cfg, "bos_token_id", v);
  special_id(w, "tokenizer.ggml.eos_token_id", tcfg, "eos_token", cfg, "eos_token_id", v);
  special_id(w, "tokenizer.ggml.unknown_token_id", tcfg, "unk_token", cfg, nullptr, v);
  special_id(w, "tokenizer.ggml.padding_token_id", tcfg, "pad_token", cfg, "pad_token_id", v);
  for (const char* k : {"add_bos_token", "add_eos_token"})
    if (tcfg.contains(k) && tcfg[k].is_boolean()) w.set_bool(std::string("tokenizer.ggml.") + k, tcfg[k].get<bool>());
  if (spm && !prepends_space(tok.value("normalizer", json()))) w.set_bool("tokenizer.ggml.add_space_prefix", false);
  std::string tmpl = tcfg.value("chat_template", json()).is_string() ? tcfg["chat_template"].get<std::string>() : "";
  if (tmpl.empty()) {
    std::error_code ec;
    if (fs::exists(dir / "chat_template.jinja", ec)) tmpl = read_whole_file((dir / "chat_template.jinja").string());
  }
  if (!tmpl.empty()) w.set_string("tokenizer.chat_template", tmpl);
}

}  // namespace lmgen
