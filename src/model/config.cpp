// ModelConfig::validate — the numbers every loader produces are checked here, once, before any buffer is sized
// from them: file fields are untrusted.
#include <cmath>
#include <initializer_list>
#include <string>

#include "lmgen/config.hpp"
#include "lmgen/error.hpp"

namespace lmgen {

namespace {

void check_range(const std::string& source, const char* what, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    throw Error(source, std::string("invalid model config: ") + what + " = " + std::to_string(v) + " (must be in [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "])");
}

}  // namespace

void ModelConfig::validate(const std::string& source) const {
  check_range(source, "n_vocab", n_vocab, 1, int64_t{1} << 22);
  check_range(source, "n_embd", n_embd, 1, 65536);
  check_range(source, "n_layer", n_layer, 1, 1024);
  check_range(source, "n_head", n_head, 1, 4096);
  check_range(source, "n_head_kv", n_head_kv, 1, n_head);
  check_range(source, "head_dim", head_dim, 1, 4096);
  check_range(source, "n_ff", n_ff, 1, int64_t{1} << 20);
  check_range(source, "n_ctx_train", n_ctx_train, 1, int64_t{1} << 22);
  auto bad = [&](const std::string& what) { return Error(source, "invalid model config: " + what); };
  if (n_head % n_head_kv != 0)
    throw bad("n_head = " + std::to_string(n_head) + " is not a multiple of n_head_kv = " + std::to_string(n_head_kv));
  if (n_head * head_dim > 4 * 65536)
    throw bad("n_head * head_dim = " + std::to_string(n_head * head_dim) + " is absurd");
  // Learned-position models (GPT-2) have no explicit head_dim: their heads must split the residual stream exactly.
  if (learned_pos && n_head * head_dim != n_embd)
    throw bad("n_head * head_dim = " + std::to_string(n_head) + " * " + std::to_string(head_dim) +
              " does not equal n_embd = " + std::to_string(n_embd));
  if (!std::isfinite(norm_eps) || norm_eps < 0.0f || norm_eps >= 1.0f)
    throw bad("norm epsilon " + std::to_string(norm_eps) + " is not in [0, 1)");
  if (rope != RopeStyle::None) {
    if (!std::isfinite(rope_theta) || rope_theta <= 0.0f)
      throw bad("rope theta " + std::to_string(rope_theta) + " must be positive");
    if (rope_dim < 2 || rope_dim > head_dim || rope_dim % 2 != 0)
      throw bad("rope_dim = " + std::to_string(rope_dim) + " must be even and in [2, head_dim = " +
                std::to_string(head_dim) + "]");
    const size_t half = static_cast<size_t>(rope_dim / 2);
    for (const auto* v : {&rope_freq_div, &rope_freq_div_long}) {
      if (!v->empty() && v->size() != half)
        throw bad("rope frequency factors: " + std::to_string(v->size()) + " values for rope_dim / 2 = " +
                  std::to_string(half));
      for (float f : *v)
        if (!std::isfinite(f) || f <= 0.0f) throw bad("rope frequency factor " + std::to_string(f) + " must be positive");
    }
    if (!rope_freq_div_long.empty() && rope_orig_ctx <= 0) throw bad("long rope factors without an original context");
    if (!std::isfinite(rope_attn_factor) || rope_attn_factor <= 0.0f) throw bad("rope attn_factor must be positive");
    if (!std::isfinite(rope_theta_local) || rope_theta_local < 0.0f) throw bad("local rope theta must be positive");
  } else if (!learned_pos) {
    throw bad("no position information: neither rope nor learned position embeddings");
  }
  for (float f : {embd_scale, attn_scale, attn_softcap, final_softcap})
    if (!std::isfinite(f) || f < 0.0f) throw bad("a scale or soft-cap is negative or not finite");
  if (!layer_sliding.empty()) {
    if (static_cast<int64_t>(layer_sliding.size()) != n_layer)
      throw bad("sliding-window layer list has " + std::to_string(layer_sliding.size()) + " entries for " +
                std::to_string(n_layer) + " layers");
    if (sliding_window <= 0) throw bad("sliding-window layers without a window");
  }
}

}  // namespace lmgen
