// Broken model, tokenizer and config files, run through the real `lmgen` binary (LMGEN_BINARY).
//
// Every variant is made in a scratch directory from a real file of the shared material: truncated at many offsets,
// single header fields set to absurd values (counts 2^63 / 2^32, huge string lengths, tensor offsets past the
// end, unknown type ids, absurd dimensions), bytes flipped. The contract checked for each (lmgen_run.hpp):
// exit status 1 (2 for usage mistakes), exactly one line on stderr that starts with "lmgen: " and names the file,
// no signal, no sanitizer report, and the run ends within the time limit (a hang is a failure; speed is not
// otherwise asserted). Variants whose damage may leave a loadable file (random byte flips) only have to end
// cleanly: exit 0, or the one-line error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common.hpp"
#include "gguf_layout.hpp"
#include "lmgen_run.hpp"

namespace fs = std::filesystem;
using lmgen::test::GgufLayout;
using lmgen::test::poke;
using lmgen::test::run_lmgen;

namespace {

constexpr uint64_t k2p63 = uint64_t{1} << 63;
constexpr uint64_t k2p32 = uint64_t{1} << 32;

struct Variant {
  std::string name;     // for failure messages
  std::string content;  // the broken file
  bool may_load = false;  // damage that can leave a valid file (byte flips): exit 0 is fine too
  int expect = 1;
};

std::string variant_dir(const std::string& family) {
  std::string d = lmgen::test::scratch_dir() + "/broken-" + family;
  fs::create_directories(d);
  return d;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << "cannot write " << path;
}

// Writes each variant to `path`, runs lmgen with `args(path)`, checks the contract. `must_name` is what the
// message has to contain (defaults to `path`).
void run_variants(const std::vector<Variant>& vs, const std::string& path,
                  const std::function<std::vector<std::string>(const std::string&)>& args,
                  const std::string& must_name = "") {
  const std::string name = must_name.empty() ? path : must_name;
  for (const Variant& v : vs) {
    write(path, v.content);
    lmgen::test::RunResult r = run_lmgen(args(path));
    if (v.may_load && r.exit_code == 0 && !r.signaled && !r.timed_out) {
      EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << v.name << ": " << r.err;
      continue;
    }
    EXPECT_TRUE(lmgen::test::clean_failure(r, v.expect, name)) << "variant: " << v.name;
  }
  std::error_code ec;
  fs::remove(path, ec);
}

std::vector<std::string> gen_args(const std::string& model) { return {"-m", model, "-p", "hi", "-n", "1", "--temp", "0"}; }

// Offsets to truncate at: the first bytes one by one around the fixed header fields, `n_spread` more spread
// evenly over [0, header_end), and `data` (offsets inside the data section).
std::vector<uint64_t> truncation_offsets(uint64_t header_end, int n_spread, const std::vector<uint64_t>& data) {
  std::vector<uint64_t> offs = {0, 1, 3, 4, 7, 8, 12, 16, 20, 24};
  for (int i = 1; i <= n_spread; ++i) offs.push_back(24 + (header_end - 24) * i / (n_spread + 1));
  offs.insert(offs.end(), data.begin(), data.end());
  return offs;
}

std::vector<Variant> truncations(const std::string& file, const std::vector<uint64_t>& offsets) {
  std::vector<Variant> vs;
  for (uint64_t o : offsets)
    if (o < file.size()) vs.push_back({"truncated to " + std::to_string(o) + " bytes", file.substr(0, o)});
  return vs;
}

// Flips all bits of `n` bytes at pseudo-random positions in [lo, hi) (one byte per variant).
std::vector<Variant> flips(const std::string& file, uint64_t lo, uint64_t hi, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<Variant> vs;
  for (int i = 0; i < n; ++i) {
    uint64_t at = lo + rng() % (hi - lo);
    std::string b = file;
    b[at] = static_cast<char>(~b[at]);
    vs.push_back({"byte " + std::to_string(at) + " flipped", b, true});
  }
  return vs;
}

template <typename T>
Variant patched(const std::string& file, const std::string& name, uint64_t off, T value, bool may_load = false) {
  std::string b = file;
  poke(b, off, value);
  return {name, b, may_load};
}

// ------------------------------------------------------------------------------------------------------------
// GGUF

std::vector<Variant> gguf_field_variants(const std::string& f, const GgufLayout& L, const std::string& arch) {
  std::vector<Variant> vs;
  vs.push_back(patched<uint8_t>(f, "bad magic", 3, 'X'));
  for (uint32_t ver : {0u, 1u, 4u, 0xFFFFFFFFu}) vs.push_back(patched(f, "version " + std::to_string(ver), 4, ver));
  for (uint64_t n : {k2p63, k2p32, uint64_t{0}, uint64_t{L.tensors.size() + 1}, ~uint64_t{0}})
    vs.push_back(patched(f, "n_tensors = " + std::to_string(n), L.n_tensors_off, n));
  for (uint64_t n : {k2p63, k2p32, uint64_t{0}, uint64_t{L.kvs.size() + 1}, ~uint64_t{0}})
    vs.push_back(patched(f, "n_kv = " + std::to_string(n), L.n_kv_off, n));
  for (uint64_t n : {k2p63, k2p32, uint64_t{1} << 40})
    vs.push_back(patched(f, "first key length " + std::to_string(n), L.kvs[0].key_off, n));
  vs.push_back(patched<uint32_t>(f, "first value type 77", L.kvs[0].type_off, 77));
  // the first value read as another type (string <-> array)
  vs.push_back(patched<uint32_t>(f, "first value type changed", L.kvs[0].type_off, L.kvs[0].type == 8 ? 9 : 8));

  const GgufLayout::Kv& a = L.kv("general.architecture");
  for (uint64_t n : {k2p63, k2p32}) vs.push_back(patched(f, "architecture string length " + std::to_string(n), a.value_off, n));
  {
    std::string b = f;
    b[a.value_off + 8] = 'Z';  // "llama" -> "Zlama": an architecture lmgen does not know
    vs.push_back({"unknown architecture", b});
  }
  const GgufLayout::Kv& toks = L.kv("tokenizer.ggml.tokens");
  for (uint64_t n : {k2p63, k2p32, uint64_t{1} << 62, uint64_t{0}})
    vs.push_back(patched(f, "token array count " + std::to_string(n), toks.count_off, n));
  vs.push_back(patched<uint32_t>(f, "token array element type 77", toks.value_off, 77));
  vs.push_back(patched<uint32_t>(f, "token array element type f32", toks.value_off, 6));
  vs.push_back(patched(f, "first token string length 2^63", toks.first_elem_off, k2p63));
  for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"}) {
    if (!L.has(key)) continue;
    const GgufLayout::Kv& k = L.kv(key);
    vs.push_back(patched(f, std::string(key) + " count 2^32", k.count_off, k2p32));
  }
  // Model hyper-parameters (u32 in these files): zero and absurd values.
  for (const char* key : {"embedding_length", "block_count", "attention.head_count", "feed_forward_length",
                          "context_length"}) {
    if (!L.has(arch + "." + key)) continue;
    const GgufLayout::Kv& k = L.kv(arch + "." + key);
    if (k.type != 4 && k.type != 5) continue;
    for (uint32_t v : {0u, 0x7FFFFFFFu, 0xFFFFFFFFu})
      vs.push_back(patched(f, std::string(key) + " = " + std::to_string(v), k.value_off, v));
  }
  // Tensor infos: the first (token_embd in these files), a middle one and the last.
  for (size_t ti : {size_t{0}, L.tensors.size() / 2, L.tensors.size() - 1}) {
    const GgufLayout::Tensor& t = L.tensors[ti];
    const std::string tn = "tensor '" + t.name + "' ";
    for (uint32_t nd : {0u, 5u, 0xFFFFFFFFu}) vs.push_back(patched(f, tn + "n_dims " + std::to_string(nd), t.n_dims_off, nd));
    for (uint64_t ne : {uint64_t{0}, k2p32, uint64_t{1} << 62, ~uint64_t{0}})
      vs.push_back(patched(f, tn + "ne[0] " + std::to_string(ne), t.ne_off, ne));
    for (uint32_t ty : {99u, 1000u, 0xFFFFFFFFu})
      vs.push_back(patched(f, tn + "type id " + std::to_string(ty), t.type_off, ty));
    for (uint64_t off : {k2p63, uint64_t{f.size()}, ~uint64_t{0} - 31, t.offset + 1})
      vs.push_back(patched(f, tn + "offset " + std::to_string(off), t.offset_off, off));
  }
  return vs;
}

struct GgufCase {
  const char* rel;
  const char* arch;
};

void check_gguf(const GgufCase& c, int n_spread) {
  const std::string src = lmgen::test::shared_path(c.rel);
  const std::string f = lmgen::test::read_file(src);
  ASSERT_GT(f.size(), 1000u);
  GgufLayout L = GgufLayout::parse(f);
  ASSERT_FALSE(L.tensors.empty());
  uint64_t data_end = 0;
  for (const auto& t : L.tensors) data_end = std::max(data_end, L.data_start + t.offset);
  // data_end is the start of the last tensor: cutting just after it still loses that tensor's bytes.
  std::vector<Variant> vs = truncations(
      f, truncation_offsets(L.infos_end, n_spread, {L.infos_end, L.data_start, L.data_start + 1, data_end + 1}));
  for (Variant& v : gguf_field_variants(f, L, c.arch)) vs.push_back(std::move(v));
  for (Variant& v : flips(f, 0, L.infos_end, 12, 42)) vs.push_back(std::move(v));
  const std::string path = variant_dir("gguf") + "/" + fs::path(c.rel).filename().string();
  run_variants(vs, path, gen_args);
}

}  // namespace

TEST(BrokenFiles, Stories260KGguf) { check_gguf({"models/stories260K/stories260K.gguf", "llama"}, 20); }

TEST(BrokenFiles, FixtureGgufQ8) { check_gguf({"fixtures/tiny-llama/model-q8_0.gguf", "llama"}, 6); }

// A GGUF tokenizer given with --tokenizer: the broken file is the tokenizer, the model is fine.
TEST(BrokenFiles, GgufAsTokenizer) {
  const std::string model = lmgen::test::stories_gguf();
  const std::string f = lmgen::test::read_file(model);
  GgufLayout L = GgufLayout::parse(f);
  std::vector<Variant> vs = truncations(f, truncation_offsets(L.infos_end, 6, {}));
  const GgufLayout::Kv& toks = L.kv("tokenizer.ggml.tokens");
  vs.push_back(patched(f, "token array count 2^63", toks.count_off, k2p63));
  vs.push_back(patched(f, "first token string length 2^32", toks.first_elem_off, k2p32));
  const std::string path = variant_dir("gguf-tok") + "/tok.gguf";
  run_variants(vs, path, [&](const std::string& p) {
    return std::vector<std::string>{"-m", model, "--tokenizer", p, "-p", "hi", "-n", "1", "--temp", "0"};
  });
}

// ------------------------------------------------------------------------------------------------------------
// llama2.c checkpoint and tokenizer.bin

TEST(BrokenFiles, Llama2cCheckpoint) {
  const std::string tok = lmgen::test::shared_path("models/stories260K/tok512.bin");
  const std::string f = lmgen::test::read_file(lmgen::test::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_GT(f.size(), 28u);
  std::vector<Variant> vs = truncations(f, {0, 4, 27, 28, 29, 100, 4096, f.size() / 2, f.size() - 4, f.size() - 1});
  const char* fields[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; ++i)
    for (int32_t v : {0, -1, 7, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()})
      vs.push_back(patched<int32_t>(f, std::string(fields[i]) + " = " + std::to_string(v), 4 * i, v));
  vs.push_back({"4 extra bytes", f + std::string(4, '\0')});
  const std::string path = variant_dir("llama2c") + "/model.bin";
  run_variants(vs, path, [&](const std::string& p) {
    return std::vector<std::string>{"-m", p, "--tokenizer", tok, "-p", "hi", "-n", "1", "--temp", "0"};
  });
}

TEST(BrokenFiles, Llama2cTokenizer) {
  const std::string model = lmgen::test::shared_path("models/stories260K/stories260K.bin");
  const std::string f = lmgen::test::read_file(lmgen::test::shared_path("models/stories260K/tok512.bin"));
  ASSERT_GT(f.size(), 100u);
  std::vector<Variant> vs = truncations(f, {0, 2, 4, 8, 11, 12, 100, 1000, f.size() / 2, f.size() - 1});
  // The first token record: f32 score at 4, i32 length at 8.
  for (int32_t len : {-1, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 1 << 20})
    vs.push_back(patched<int32_t>(f, "first token length " + std::to_string(len), 8, len));
  const std::string path = variant_dir("llama2c-tok") + "/tokenizer.bin";
  run_variants(vs, path, [&](const std::string& p) {
    return std::vector<std::string>{"-m", model, "--tokenizer", p, "-p", "hi", "-n", "1", "--temp", "0"};
  });
}

// ------------------------------------------------------------------------------------------------------------
// Hugging Face directories: model.safetensors and config.json

namespace {

// A model directory in the scratch area: config.json and model.safetensors are symlinks to the shared fixture
// unless the test writes its own broken copy.
std::string hf_dir(const std::string& family, const std::string& fixture, bool link_config, bool link_weights) {
  std::string d = variant_dir(family);
  std::error_code ec;
  for (const char* n : {"config.json", "model.safetensors"}) fs::remove(fs::path(d) / n, ec);
  if (link_config) fs::create_symlink(lmgen::test::shared_path(fixture + "/config.json"), fs::path(d) / "config.json");
  if (link_weights)
    fs::create_symlink(lmgen::test::shared_path(fixture + "/model.safetensors"), fs::path(d) / "model.safetensors");
  return d;
}

// The safetensors file with its JSON header replaced by `edit(header)`.
std::string with_header(const std::string& f, const std::function<void(nlohmann::json&)>& edit) {
  uint64_t n = 0;
  std::memcpy(&n, f.data(), 8);
  nlohmann::json h = nlohmann::json::parse(f.substr(8, n));
  edit(h);
  std::string hs = h.dump();
  std::string out(8, '\0');
  uint64_t len = hs.size();
  std::memcpy(out.data(), &len, 8);
  return out + hs + f.substr(8 + n);
}

}  // namespace

TEST(BrokenFiles, Safetensors) {
  const std::string fixture = "fixtures/tiny-gpt2/hf";
  const std::string tok = lmgen::test::shared_path(fixture + "/tokenizer.json");
  const std::string f = lmgen::test::read_file(lmgen::test::shared_path(fixture + "/model.safetensors"));
  uint64_t hl = 0;
  std::memcpy(&hl, f.data(), 8);
  ASSERT_LT(hl + 8, f.size());
  std::vector<Variant> vs = truncations(f, {0, 4, 7, 8, 9, 50, hl / 2, hl + 7, hl + 8, hl + 1000, f.size() - 1});
  for (uint64_t n : {k2p63, k2p32, uint64_t{f.size()}, uint64_t{0}, hl - 1, hl + 1})
    vs.push_back(patched(f, "header length " + std::to_string(n), 0, n));
  vs.push_back(patched<uint8_t>(f, "header does not start with '{'", 8, 'x'));
  // Entries of the header, edited one at a time (the first tensor by name order).
  nlohmann::json h0 = nlohmann::json::parse(f.substr(8, hl));
  std::string first, last;
  for (auto it = h0.begin(); it != h0.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    if (first.empty()) first = it.key();
    last = it.key();
  }
  ASSERT_FALSE(first.empty());
  using J = nlohmann::json;
  const std::vector<std::pair<std::string, std::function<void(J&)>>> edits = {
      {"unknown dtype", [&](J& h) { h[first]["dtype"] = "Q99"; }},
      {"dtype not a string", [&](J& h) { h[first]["dtype"] = 5; }},
      {"unsupported dtype I64 on a weight", [&](J& h) { h[first]["dtype"] = "I64"; }},
      {"dtype F16 (size mismatch)", [&](J& h) { h[first]["dtype"] = h[first]["dtype"] == "F16" ? "F32" : "F16"; }},
      {"shape 2^62 x 2^62", [&](J& h) { h[first]["shape"] = {int64_t{1} << 62, int64_t{1} << 62}; }},
      {"negative shape", [&](J& h) { h[first]["shape"] = {-1, 5}; }},
      {"shape not a list", [&](J& h) { h[first]["shape"] = "abc"; }},
      {"shape transposed", [&](J& h) {
         auto s = h[last]["shape"];
         if (s.size() == 2) h[last]["shape"] = {s[1], s[0]};
         else h[last]["shape"] = {s[0], 1};
       }},
      {"data_offsets end 2^63", [&](J& h) { h[last]["data_offsets"][1] = k2p63; }},
      {"data_offsets past the end", [&](J& h) { h[last]["data_offsets"][1] = f.size(); }},
      {"data_offsets begin > end", [&](J& h) { h[first]["data_offsets"] = {8, 4}; }},
      {"data_offsets negative", [&](J& h) { h[first]["data_offsets"] = {-8, 4}; }},
      {"data_offsets missing", [&](J& h) { h[first].erase("data_offsets"); }},
      {"overlapping tensors", [&](J& h) { h[last]["data_offsets"] = h[first]["data_offsets"]; }},
      {"tensor removed", [&](J& h) { h.erase(first); }},
      {"header is an array", [&](J& h) { h = J::array({1, 2}); }},
      {"entry is a string", [&](J& h) { h[first] = "x"; }},
  };
  for (const auto& [name, edit] : edits) vs.push_back({name, with_header(f, edit)});
  const std::string dir = hf_dir("st", fixture, true, false);
  run_variants(vs, dir + "/model.safetensors", [&](const std::string&) {
    return std::vector<std::string>{"-m", dir, "--tokenizer", tok, "-p", "hi", "-n", "1", "--temp", "0"};
  }, dir);
}

TEST(BrokenFiles, ConfigJson) {
  const std::string fixture = "fixtures/tiny-gpt2/hf";
  const std::string tok = lmgen::test::shared_path(fixture + "/tokenizer.json");
  const std::string text = lmgen::test::read_file(lmgen::test::shared_path(fixture + "/config.json"));
  std::vector<Variant> vs = truncations(text, {0, 1, 10, text.size() / 2, text.size() - 2});
  vs.push_back({"not JSON", "this is not json"});
  vs.push_back({"an array", "[1, 2, 3]"});
  vs.push_back({"null", "null"});
  using J = nlohmann::json;
  const std::vector<std::pair<std::string, std::function<void(J&)>>> edits = {
      {"vocab_size 2^40", [](J& c) { c["vocab_size"] = int64_t{1} << 40; }},
      {"vocab_size 0", [](J& c) { c["vocab_size"] = 0; }},
      {"vocab_size -1", [](J& c) { c["vocab_size"] = -1; }},
      {"vocab_size a string", [](J& c) { c["vocab_size"] = "many"; }},
      {"vocab_size 1e300", [](J& c) { c["vocab_size"] = 1e300; }},
      {"n_embd 0", [](J& c) { c["n_embd"] = 0; }},
      {"n_embd 2^31", [](J& c) { c["n_embd"] = int64_t{1} << 31; }},
      {"n_layer 10^9", [](J& c) { c["n_layer"] = 1000000000; }},
      {"n_head 0", [](J& c) { c["n_head"] = 0; }},
      {"n_head 3 (does not divide n_embd)", [](J& c) { c["n_head"] = 3; }},
      {"n_positions 2^40", [](J& c) { c["n_positions"] = int64_t{1} << 40; c["n_ctx"] = int64_t{1} << 40; }},
      {"layer_norm_epsilon -1", [](J& c) { c["layer_norm_epsilon"] = -1.0; }},
      {"unknown architecture", [](J& c) { c["architectures"] = {"BertModel"}; c["model_type"] = "bert"; }},
      {"architectures not a list", [](J& c) { c["architectures"] = 7; }},
  };
  for (const auto& [name, edit] : edits) {
    J c = J::parse(text);
    edit(c);
    vs.push_back({name, c.dump(1)});
  }
  const std::string dir = hf_dir("cfg", fixture, false, true);
  run_variants(vs, dir + "/config.json", [&](const std::string&) {
    return std::vector<std::string>{"-m", dir, "--tokenizer", tok, "-p", "hi", "-n", "1", "--temp", "0"};
  }, dir);
}

// ------------------------------------------------------------------------------------------------------------
// tokenizer.json (with a GGUF model of the same vocabulary)

namespace {

// The fixture's tokenizer.json cut to its first `keep` tokens and the merges among them (still a valid tokenizer
// for the model: fewer tokens than its vocabulary), so that each run parses ~50 KB instead of 2 MB.
std::string small_tokenizer_json(const std::string& full, int64_t keep) {
  nlohmann::json j = nlohmann::json::parse(full);
  nlohmann::json& vocab = j["model"]["vocab"];
  nlohmann::json kept = nlohmann::json::object();
  for (auto it = vocab.begin(); it != vocab.end(); ++it)
    if (it.value().get<int64_t>() < keep) kept[it.key()] = it.value();
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& m : j["model"]["merges"]) {
    std::string a, b;
    if (m.is_string()) {
      std::string s = m.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos) continue;
      a = s.substr(0, sp), b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2) {
      a = m[0].get<std::string>(), b = m[1].get<std::string>();
    }
    if (kept.contains(a) && kept.contains(b) && kept.contains(a + b)) merges.push_back(m);
  }
  vocab = kept;
  j["model"]["merges"] = merges;
  nlohmann::json added = nlohmann::json::array();
  for (const auto& t : j["added_tokens"])
    if (t["id"].get<int64_t>() < keep) added.push_back(t);
  j["added_tokens"] = added;
  return j.dump();
}

}  // namespace

TEST(BrokenFiles, TokenizerJson) {
  const std::string model = lmgen::test::shared_path("fixtures/tiny-gpt2/model-f16.gguf");
  const std::string text =
      small_tokenizer_json(lmgen::test::read_file(lmgen::test::shared_path("fixtures/tiny-gpt2/hf/tokenizer.json")), 3000);
  {  // the baseline loads and runs
    const std::string p = variant_dir("tokjson") + "/small-tokenizer.json";
    write(p, text);
    auto r = run_lmgen({"-m", model, "--tokenizer", p, "-p", "hi", "-n", "1", "--temp", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }
  std::vector<Variant> vs = truncations(text, {0, 1, 100, 1000, text.size() / 2, text.size() - 2});
  vs.push_back({"an array", "[]"});
  vs.push_back({"empty object", "{}"});
  vs.push_back({"invalid UTF-8 inside a string", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\xff\xfe\": 0}, \"merges\": []}}"});
  using J = nlohmann::json;
  const J j0 = J::parse(text);
  const std::vector<std::pair<std::string, std::function<void(J&)>>> edits = {
      {"model type Unigram", [](J& t) { t["model"]["type"] = "Unigram"; }},
      {"model not an object", [](J& t) { t["model"] = 3; }},
      {"vocab not an object", [](J& t) { t["model"]["vocab"] = J::array(); }},
      {"vocab id 2^40", [](J& t) { t["model"]["vocab"]["!"] = int64_t{1} << 40; }},
      {"vocab id -5", [](J& t) { t["model"]["vocab"]["!"] = -5; }},
      {"vocab id a string", [](J& t) { t["model"]["vocab"]["!"] = "x"; }},
      {"vocab emptied", [](J& t) { t["model"]["vocab"] = J::object(); }},
      {"merges not strings", [](J& t) { t["model"]["merges"] = {1, 2, 3}; }},
      {"merge of unknown tokens", [](J& t) { t["model"]["merges"].push_back("nosuchtoken anotherone"); }},
      {"merge without a space", [](J& t) { t["model"]["merges"][0] = "nospace"; }},
      {"added token id 2^31", [](J& t) {
         t["added_tokens"].push_back({{"id", int64_t{1} << 31}, {"content", "<x>"}, {"special", true}});
       }},
      {"added token content missing", [](J& t) { t["added_tokens"].push_back({{"id", 5}, {"special", true}}); }},
      {"pre_tokenizer of unknown type", [](J& t) { t["pre_tokenizer"] = {{"type", "NoSuchPreTokenizer"}}; }},
      {"normalizer of unknown type", [](J& t) { t["normalizer"] = {{"type", "NoSuchNormalizer"}}; }},
  };
  for (const auto& [name, edit] : edits) {
    J t = j0;
    edit(t);
    vs.push_back({name, t.dump()});
  }
  const std::string path = variant_dir("tokjson") + "/tokenizer.json";
  run_variants(vs, path, [&](const std::string& p) {
    return std::vector<std::string>{"-m", model, "--tokenizer", p, "-p", "hi", "-n", "1", "--temp", "0"};
  });
}

// A broken tokenizer_config.json beside a valid tokenizer.json is an error naming the config file.
TEST(BrokenFiles, TokenizerConfigJson) {
  const std::string model = lmgen::test::shared_path("fixtures/tiny-gpt2/model-f16.gguf");
  const std::string dir = variant_dir("tokcfg");
  std::error_code ec;
  fs::remove(fs::path(dir) / "tokenizer.json", ec);
  fs::create_symlink(lmgen::test::shared_path("fixtures/tiny-gpt2/hf/tokenizer.json"), fs::path(dir) / "tokenizer.json");
  const std::string text = lmgen::test::read_file(lmgen::test::shared_path("fixtures/tiny-gpt2/hf/tokenizer_config.json"));
  std::vector<Variant> vs = truncations(text, {1, text.size() / 2});
  vs.push_back({"not JSON", "not json"});
  run_variants(vs, dir + "/tokenizer_config.json", [&](const std::string&) {
    return std::vector<std::string>{"-m", model, "--tokenizer", dir + "/tokenizer.json", "-p", "hi", "-n", "1", "--temp", "0"};
  }, dir + "/tokenizer_config.json");
}
