// Regression tests for inputs found by fuzzing (fuzz/, docs/fuzzing.md) and in-process checks that absurd file
// fields are refused with lmgen::Error before any allocation is sized from them. The inputs are built here, byte
// by byte, so the tests do not depend on fuzzer artifacts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "lmgen_run.hpp"
#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "load/hf_config.hpp"
#include "util/json_limits.hpp"
#include "lmgen/loader.hpp"
#include "format/safetensors.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using lmgen::test::stories_gguf;

namespace {

std::string scratch(const std::string& name, const std::string& bytes) {
  return lmgen::test::write_scratch("robust-" + name, bytes);
}

template <typename T>
void put(std::string& b, T v) {
  b.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_str(std::string& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b += s;
}

// "GGUF" v3 with the given counts and body.
std::string gguf(uint64_t n_tensors, uint64_t n_kv, const std::string& body) {
  std::string b = "GGUF";
  put<uint32_t>(b, 3);
  put<uint64_t>(b, n_tensors);
  put<uint64_t>(b, n_kv);
  return b + body;
}

// Expects `f` to throw lmgen::Error whose message contains `path`.
template <typename F>
void expect_error_naming(F&& f, const std::string& path) {
  try {
    f();
    ADD_FAILURE() << "no error for " << path;
  } catch (const lmgen::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Robustness, GgufHugeCountsRefusedBeforeAllocating) {
  for (uint64_t n : {uint64_t{1} << 63, uint64_t{1} << 32, ~uint64_t{0}}) {
    const std::string p1 = scratch("kv.gguf", gguf(0, n, std::string(64, '\0')));
    expect_error_naming([&] { lmgen::GgufFile g(p1); }, p1);
    const std::string p2 = scratch("t.gguf", gguf(n, 0, std::string(64, '\0')));
    expect_error_naming([&] { lmgen::GgufFile g(p2); }, p2);
  }
}

TEST(Robustness, GgufHugeStringArrayRefused) {
  std::string body;
  put_str(body, "tokenizer.ggml.tokens");
  put<uint32_t>(body, 9);  // array
  put<uint32_t>(body, 8);  // of strings
  put<uint64_t>(body, uint64_t{1} << 61);
  body += std::string(64, '\0');
  const std::string p = scratch("arr.gguf", gguf(0, 1, body));
  expect_error_naming([&] { lmgen::GgufFile g(p); }, p);
}

TEST(Robustness, GgufTensorOffsetOverflowRefused) {
  std::string body;
  put_str(body, "w");
  put<uint32_t>(body, 1);
  put<uint64_t>(body, 32);  // ne[0]
  put<uint32_t>(body, 0);   // F32
  put<uint64_t>(body, ~uint64_t{0} - 31);  // aligned, and offset + data_start overflows
  body += std::string(256, '\0');
  const std::string p = scratch("off.gguf", gguf(1, 0, body));
  expect_error_naming([&] { lmgen::GgufFile g(p); }, p);
}

TEST(Robustness, SafetensorsHugeHeaderLengthRefused) {
  for (uint64_t n : {uint64_t{1} << 63, uint64_t{1} << 32, uint64_t{200} << 20}) {
    std::string b;
    put<uint64_t>(b, n);
    b += "{}";
    const std::string p = scratch("h.safetensors", b);
    expect_error_naming([&] { lmgen::SafetensorsFile f(p); }, p);
  }
}

TEST(Robustness, HfConfigAbsurdNumbersRefused) {
  for (const char* c : {R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,
                           "num_attention_heads":4,"num_hidden_layers":2,"vocab_size":1e30,
                           "max_position_embeddings":64,"rms_norm_eps":1e-5})",
                        R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,
                           "num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100,
                           "max_position_embeddings":1099511627776,"rms_norm_eps":1e-5})",
                        R"({"architectures":["LlamaForCausalLM"],"hidden_size":-64,"intermediate_size":128,
                           "num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100,
                           "max_position_embeddings":64,"rms_norm_eps":1e-5})"})
    expect_error_naming([&] { lmgen::hf_config_from_json(c, "cfg/config.json"); }, "cfg/config.json");
}

TEST(Robustness, Llama2cTokenizerHugeLengthRefused) {
  std::string b;
  put<uint32_t>(b, 16);
  put<float>(b, 0.0f);
  put<int32_t>(b, 0x7FFFFFFF);
  b += "abc";
  const std::string p = scratch("tok.bin", b);
  expect_error_naming([&] { lmgen::load_llama2c_tokenizer(p, 4); }, p);
}

// ------------------------------------------------------------------------------------------------------------
// Hostile JSON, run through the lmgen binary (a stack overflow kills the child, not the test runner).

namespace {

std::string nested(const std::string& open, const std::string& inner, const std::string& close, int depth) {
  std::string s;
  s.reserve((open.size() + close.size()) * depth + inner.size());
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

// A normalizer Sequence nested 200k deep (an 8 MB tokenizer.json) must be refused, not overflow the stack in the
// recursive normalizer builder (found: SIGSEGV).
TEST(Robustness, DeeplyNestedTokenizerNormalizerRefused) {
  const std::string norm = nested(R"({"type":"Sequence","normalizers":[)", R"({"type":"Lowercase"})", "]}", 200000);
  for (const char* pre : {"null", R"({"type":"ByteLevel"})"}) {
    const std::string p = scratch("deep-norm.json", std::string(R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},)") +
                                                        R"("pre_tokenizer":)" + pre + R"(,"normalizer":)" + norm + "}");
    auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--tokenizer", p, "-p", "hi", "-n", "1"});
    EXPECT_TRUE(lmgen::test::clean_failure(r, 1, p)) << "pre_tokenizer " << pre;
  }
}

// Deep pre_tokenizer / decoder / post_processor Sequences likewise.
TEST(Robustness, DeeplyNestedTokenizerSequencesRefused) {
  const std::string head = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},)";
  const std::vector<std::string> bodies = {
      R"("pre_tokenizer":)" + nested(R"({"type":"Sequence","pretokenizers":[)", R"({"type":"ByteLevel"})", "]}", 200000),
      R"("decoder":)" + nested(R"({"type":"Sequence","decoders":[)", R"({"type":"Fuse"})", "]}", 200000),
      R"("post_processor":)" + nested(R"({"type":"Sequence","processors":[)", R"({"type":"ByteLevel"})", "]}", 200000),
  };
  for (const std::string& b : bodies) {
    const std::string p = scratch("deep-seq.json", head + b + "}");
    auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--tokenizer", p, "-p", "hi", "-n", "1"});
    EXPECT_TRUE(lmgen::test::clean_failure(r, 1, p)) << b.substr(0, 40);
  }
}

// A config.json value that is an array nested 1M deep: the error message must not dump it recursively
// (found: SIGSEGV in nlohmann::json::dump from hf_config.cpp's "must be an integer, found ..." message).
TEST(Robustness, DeeplyNestedConfigValueRefused) {
  const std::string d = lmgen::test::scratch_dir() + "/deep-config";
  std::filesystem::create_directories(d);
  {
    std::ofstream f(d + "/config.json", std::ios::binary | std::ios::trunc);
    f << R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"vocab_size":)" << nested("[", "", "]", 1000000) << "}";
  }
  auto r = lmgen::test::run_lmgen({"-m", d, "-p", "hi", "-n", "1"});
  EXPECT_TRUE(lmgen::test::clean_failure(r, 1, d));
}

// A safetensors shape nested 1M deep: same (found: SIGSEGV in dump_short in safetensors.cpp).
TEST(Robustness, DeeplyNestedSafetensorsShapeRefused) {
  const std::string d = lmgen::test::scratch_dir() + "/deep-st";
  std::filesystem::create_directories(d);
  std::string h = R"({"w":{"dtype":"F32","shape":)" + nested("[", "", "]", 1000000) + R"(,"data_offsets":[0,0]}})";
  std::string b;
  put<uint64_t>(b, h.size());
  b += h;
  {
    std::ofstream f(d + "/model.safetensors", std::ios::binary | std::ios::trunc);
    f << b;
  }
  std::error_code ec;
  std::filesystem::remove(d + "/config.json", ec);
  std::filesystem::copy_file(lmgen::test::shared_path("fixtures/tiny-llama/hf/config.json"), d + "/config.json", ec);
  auto r = lmgen::test::run_lmgen({"-m", d, "-p", "hi", "-n", "1"});
  EXPECT_TRUE(lmgen::test::clean_failure(r, 1, d));
}

// One vocabulary id of 2^24 - 1 in an otherwise tiny tokenizer.json must not make lmgen allocate a 16M-entry
// vocabulary (found: 530 MB and 4 s for a 150-byte file); it is refused naming the tokenizer file.
TEST(Robustness, SparseHugeTokenIdRefused) {
  for (const char* pre : {"null", R"({"type":"ByteLevel"})"}) {
    const std::string p = scratch("sparse.json", std::string(R"({"model":{"type":"BPE","vocab":{"a":0,"b":16777215},"merges":[]},)") +
                                                     R"("pre_tokenizer":)" + pre + "}");
    auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--tokenizer", p, "-p", "hi", "-n", "1"});
    EXPECT_TRUE(lmgen::test::clean_failure(r, 1, p)) << "pre_tokenizer " << pre;
  }
}

// GPT-2 configs without n_inner use 4 * n_embd: an absurd n_embd must be refused, without signed overflow
// (UBSan in the sanitizer build aborts on it).
TEST(Robustness, Gpt2HugeEmbeddingNoOverflow) {
  for (const char* n_embd : {"4611686018427387904", "9223372036854775807", "-9223372036854775807"}) {
    // Built by appending to one string: GCC 12 warned (-Warray-bounds, a false positive) on the operator+ chain.
    std::string c = R"({"architectures":["GPT2LMHeadModel"],"vocab_size":100,"n_layer":2,"n_head":4,)";
    c.append(R"("n_positions":64,"n_embd":)").append(n_embd).append("}");
    expect_error_naming([&] { lmgen::hf_config_from_json(c, "gpt2/config.json"); }, "gpt2/config.json");
  }
}

// check_json_depth (lmgen/json_limits.hpp): the guard the JSON loaders call right after parsing.
TEST(Robustness, JsonDepthLimit) {
  nlohmann::json deep = nlohmann::json::parse(nested("[", "1", "]", 100000));
  expect_error_naming([&] { lmgen::check_json_depth(deep, "deep.json"); }, "deep.json");
  nlohmann::json ok = nlohmann::json::parse(nested(R"({"a":[)", "1", "]}", 20));
  EXPECT_NO_THROW(lmgen::check_json_depth(ok, "ok.json"));
  EXPECT_NO_THROW(lmgen::check_json_depth(nlohmann::json::parse(nested("[", "", "]", 65)), "empty.json"));
  EXPECT_THROW(lmgen::check_json_depth(nlohmann::json::parse(nested("[", "1", "]", 65)), "x"), lmgen::Error);
  // every real tokenizer.json / config.json of the shared material is far below the limit
  for (const char* rel : {"fixtures/tiny-qwen2/hf/tokenizer.json", "fixtures/tiny-llama/hf/tokenizer.json",
                          "fixtures/tiny-gpt2/hf/config.json", "tokenizers/llama3/tokenizer_config.json"}) {
    auto j = nlohmann::json::parse(lmgen::test::read_file(lmgen::test::shared_path(rel)));
    EXPECT_NO_THROW(lmgen::check_json_depth(j, rel, 16)) << rel;
  }
}

// A tensor of 2^31 x 2^31 F32 elements: 2^64 bytes wrapped to 0 in the size computation, so the tensor passed the
// bounds checks as an empty view of 2^62 elements. Refused now (gguf.cpp bounds the block count by the file size).
TEST(Robustness, GgufTensorByteSizeOverflowRefused) {
  for (uint32_t type : {0u, 1u, 8u}) {  // F32, F16, Q8_0
    std::string body;
    put_str(body, "w");
    put<uint32_t>(body, 2);
    put<uint64_t>(body, uint64_t{1} << 31);
    put<uint64_t>(body, uint64_t{1} << 31);
    put<uint32_t>(body, type);
    put<uint64_t>(body, 0);
    body += std::string(256, '\0');
    const std::string p = scratch("wrap.gguf", gguf(1, 0, body));
    expect_error_naming([&] { lmgen::GgufFile g(p); }, p);
  }
}
