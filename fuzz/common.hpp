// Shared helpers for the libFuzzer harnesses (fuzz/fuzz_*.cpp).
//
// lmgen's loaders take paths (they memory-map model files), so each harness writes the fuzz input to a scratch
// file in a per-process directory (under /dev/shm when it exists) and calls the real loader on it.
// The contract being fuzzed: any input either loads or throws lmgen::Error. Any other exception (std::bad_alloc,
// nlohmann::json::exception, std::out_of_range, ...) escapes the harness and libFuzzer reports it as a crash, as it
// does for ASan/UBSan reports, leaks, timeouts and out-of-memory (-rss_limit_mb).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "lmgen/model.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen::fuzz {

// Per-process scratch directory, created once and removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("lmgen-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static std::filesystem::path to_remove = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return d;
  }();
  return dir;
}

// Writes `bytes` to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_file(const std::string& name, std::string_view bytes) {
  std::filesystem::path p = scratch_dir() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::abort();  // the harness itself is broken (disk full?)
  return p.string();
}

inline void remove_file(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove(scratch_dir() / name, ec);
}

// Splits an input into two parts: a little-endian u16 length L, then L bytes (part a, clamped), then the rest
// (part b). The seed generator (fuzz/make_seeds.py) writes inputs in this layout.
struct Split2 {
  std::string_view a, b;
};
inline Split2 split2(std::string_view in) {
  if (in.size() < 2) return {in, {}};
  size_t len = static_cast<uint8_t>(in[0]) | (static_cast<size_t>(static_cast<uint8_t>(in[1])) << 8);
  in.remove_prefix(2);
  if (len > in.size()) len = in.size();
  return {in.substr(0, len), in.substr(len)};
}

// Texts every successfully loaded tokenizer is exercised with (besides fuzz-chosen text in fuzz_tokenize).
inline const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> t = {
      "", " ", "Hello world", "  two  spaces\n\nnewlines\t", "Once upon a time, there was a little girl.",
      "<s>x</s><|endoftext|><|im_start|>", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "\xff\xfe\x80 bad utf8 \xc3",
      std::string("nul\0byte", 8), "1234567890 3.14 x=y+z;",
      // First words of one and two bytes (a Gemma 2-style tokenizer once read before the word's start on them).
      "a b", "Hi there", "El ni\xc3\xb1o", "I am", "a\xe2\x96\x81" "b",
  };
  return t;
}

// Runs encode / decode / piece functions of a tokenizer on `text` with every option combination and on the
// produced ids. Library errors (lmgen::Error) are acceptable outcomes; anything else crashes the harness.
inline void exercise_text(const Tokenizer& tok, std::string_view text) {
  for (int flags = 0; flags < 4; ++flags) {
    EncodeOptions opt;
    opt.add_special = flags & 1;
    opt.parse_special = flags & 2;
    std::vector<int32_t> ids;
    try {
      ids = tok.encode(text, opt);
    } catch (const Error&) {
      continue;
    }
    for (int32_t id : ids)
      if (id < 0 || id >= tok.n_vocab()) std::abort();  // encode produced an id outside the vocabulary
    try {
      (void)tok.decode(ids, false);
      (void)tok.decode(ids, true);
      int32_t prev = -1;
      for (int32_t id : ids) {
        (void)tok.stream_piece(id, prev, flags & 1);
        (void)tok.token_to_piece(id, flags & 2);
        prev = id;
      }
    } catch (const Error&) {
    }
  }
}

// Exercises a freshly loaded tokenizer: fixed sample texts, the metadata accessors and a walk over (at most the
// first `max_ids`) token ids.
inline void exercise_tokenizer(const Tokenizer& tok, int32_t max_ids = 512) {
  const int32_t n = tok.n_vocab();
  if (n <= 0) std::abort();
  (void)tok.bos_id();
  (void)tok.eos_id();
  (void)tok.add_bos();
  for (const std::string& s : sample_texts()) exercise_text(tok, s);
  for (int32_t id = 0; id < n && id < max_ids; ++id) {
    try {
      (void)tok.is_eog(id);
      (void)tok.is_special(id);
      (void)tok.token_text(id);
      (void)tok.token_to_piece(id, true);
      (void)tok.token_to_piece(id, false);
    } catch (const Error&) {
    }
  }
  // Out-of-range ids must be refused or ignored, never read out of bounds.
  for (int32_t id : {-1, n, n + 1, 1 << 30}) {
    try {
      (void)tok.is_eog(id);
      (void)tok.is_special(id);
      (void)tok.token_to_piece(id, true);
      int32_t one[1] = {id};
      (void)tok.decode(std::span<const int32_t>(one, 1), false);
    } catch (const Error&) {
    }
  }
}

// Runs two forward steps of a loaded model if it is small (a fuzzed file can describe a model whose shapes are
// consistent but whose numbers are garbage: NaN/Inf must not turn into out-of-bounds reads).
inline void exercise_model(std::shared_ptr<const ModelData> md) {
  const ModelConfig& c = md->config;
  if (c.n_layer > 4 || c.n_embd > 256 || c.n_ff > 1024 || c.n_vocab > 4096 || c.n_head * c.head_dim > 1024) return;
  ModelOptions mo;
  mo.n_ctx = 4;
  mo.n_threads = 1;
  mo.n_batch = 2;
  try {
    Model m(std::move(md), mo);
    std::vector<float> logits;
    const int32_t last = static_cast<int32_t>(c.n_vocab - 1);
    int32_t toks[2] = {0, last};
    m.eval(std::span<const int32_t>(toks, 2), logits, true);
    if (logits.size() != static_cast<size_t>(2 * c.n_vocab)) std::abort();
    int32_t bad[1] = {static_cast<int32_t>(c.n_vocab)};  // out of range: must throw
    try {
      m.eval(std::span<const int32_t>(bad, 1), logits);
      std::abort();
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
}

// A grammar lmgen wrote itself (from a JSON schema, from tools) must compile: trap when its own parser refuses it;
// then `text` is checked against it (never throws).
inline void check_own_grammar(const std::string& gbnf, std::string_view text) {
  std::shared_ptr<const CompiledGrammar> g;
  try {
    g = compile_gbnf(gbnf);
  } catch (const Error&) {
    __builtin_trap();
  }
  (void)check_text(g, text);
}

}  // namespace lmgen::fuzz
