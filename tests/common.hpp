// Helpers shared by the tests: where the shared material is, and small file readers.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lmgen/error.hpp"

namespace lmgen::test {

// Root of the shared test material: env LMGEN_SHARED, else the CMake setting LMGEN_SHARED_DIR (../shared).
inline std::string shared_dir() {
  if (const char* e = std::getenv("LMGEN_SHARED"); e && *e) return e;
  return LMGEN_SHARED_DIR;
}

// Absolute path of a file under the shared material. A missing file is a test failure, never a silent skip.
inline std::string shared_path(const std::string& rel) {
  std::string p = shared_dir() + "/" + rel;
  if (!std::filesystem::exists(p)) ADD_FAILURE() << "shared test file missing: " << p << " (set LMGEN_SHARED)";
  return p;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

inline std::vector<float> read_f32_file(const std::string& path) {
  std::string b = read_file(path);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

// A scratch directory for the test's own files (the shared material is read-only).
inline std::string scratch_dir() {
  auto p = std::filesystem::temp_directory_path() / ("lmgen-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

// The real trained stories260K model as GGUF.
inline std::string stories_gguf() { return shared_path("models/stories260K/stories260K.gguf"); }

// Writes bytes to a file in the scratch directory and returns its path.
inline std::string write_scratch(const std::string& name, const std::string& bytes) {
  const std::string p = scratch_dir() + "/" + name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  return p;
}

// One JSON value per finished line of `out` (e.g. a --jsonl stdout); an unfinished last line is not a result.
inline std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  size_t pos = 0;
  for (size_t nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1)
    v.push_back(nlohmann::json::parse(out.substr(pos, nl - pos)));
  return v;
}

// Expects f() to throw lmgen::Error whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// A one-layer llama config.json of toy size (16 tokens, width 8).
inline nlohmann::json tiny_llama_config() {
  return nlohmann::json::parse(R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":16,
  "hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"intermediate_size":12,
  "max_position_embeddings":32,"rms_norm_eps":1e-5,"rope_theta":10000.0,"tie_word_embeddings":false})");
}

}  // namespace lmgen::test
