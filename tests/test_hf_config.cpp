// config.json -> ModelConfig (real configs of published models, dispatch, refusals) and ModelConfig::validate.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "load/hf_config.hpp"

namespace lmgen {
namespace {

using nlohmann::json;
using test::expect_error;
using test::shared_path;


ModelConfig shared_config(const std::string& name) {
  const std::string path = shared_path("configs/" + name + "/config.json");
  return load_hf_config(path);
}

TEST(HfConfig, RealConfigs) {
  ModelConfig g = shared_config("gpt2");
  EXPECT_EQ(g.arch, "gpt2");
  EXPECT_EQ(g.n_embd, 768);
  EXPECT_EQ(g.n_ff, 3072);  // n_inner null -> 4 * n_embd
  EXPECT_EQ(g.n_ctx_train, 1024);
  EXPECT_EQ(g.head_dim, 64);
  EXPECT_TRUE(g.tied_head);  // GPT-2 ties by default (no key in this config)

  ModelConfig q = shared_config("qwen2.5-0.5b-instruct");
  EXPECT_EQ(q.arch, "qwen2");
  EXPECT_EQ(q.n_head, 14);
  EXPECT_EQ(q.n_head_kv, 2);
  EXPECT_EQ(q.head_dim, 64);
  EXPECT_EQ(q.n_ff, 4864);
  EXPECT_EQ(q.n_ctx_train, 32768);  // use_sliding_window false: window ignored
  EXPECT_TRUE(q.tied_head && q.qkv_bias);
  EXPECT_FLOAT_EQ(q.rope_theta, 1e6f);

  ModelConfig s = shared_config("smollm2-135m");
  EXPECT_EQ(s.arch, "llama");
  EXPECT_EQ(s.n_head, 9);
  EXPECT_EQ(s.n_head_kv, 3);
  EXPECT_EQ(s.head_dim, 64);
  EXPECT_TRUE(s.tied_head);
  EXPECT_FALSE(s.qkv_bias);
  EXPECT_FLOAT_EQ(s.rope_theta, 100000.0f);

  ModelConfig t = shared_config("tinyllama-1.1b-chat-v1.0");
  EXPECT_EQ(t.n_layer, 22);
  EXPECT_EQ(t.head_dim, 64);
  EXPECT_EQ(t.rope_dim, 64);
  EXPECT_EQ(t.n_ff, 5632);
  EXPECT_FALSE(t.tied_head);
}


TEST(HfConfig, ArchitectureDispatchAndRefusals) {
  json j = test::tiny_llama_config();
  j["architectures"] = {"FooForCausalLM"};
  expect_error([&] { hf_config_from_json(j.dump(), "X/config.json"); },
               {"X/config.json: unsupported architecture 'FooForCausalLM'", "supported: LlamaForCausalLM",
                "Qwen2ForCausalLM", "GPT2LMHeadModel"});
  j.erase("architectures");
  j["model_type"] = "mistral";
  ModelConfig m = hf_config_from_json(j.dump(), "X/config.json");
  EXPECT_EQ(m.arch, "llama");
  j["model_type"] = "bert";
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"unsupported architecture 'bert'"});

  j = test::tiny_llama_config();
  j["architectures"] = {"MistralForCausalLM"};
  j["sliding_window"] = 16;
  EXPECT_EQ(hf_config_from_json(j.dump(), "c").n_ctx_train, 16);
  j["sliding_window"] = nullptr;
  EXPECT_EQ(hf_config_from_json(j.dump(), "c").n_ctx_train, 32);

  j = test::tiny_llama_config();
  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 8.0}};
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"c.json", "rope_scaling 'dynamic'"});
  j = test::tiny_llama_config();
  j["hidden_act"] = "gelu";
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"hidden_act 'gelu'"});
  j = test::tiny_llama_config();
  j.erase("hidden_size");
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"c.json", "missing 'hidden_size'"});
  j = test::tiny_llama_config();
  j["num_key_value_heads"] = 3;  // 2 % 3 != 0 and 3 > 2
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"c.json", "n_head_kv"});
  j = test::tiny_llama_config();
  j["vocab_size"] = -5;
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"n_vocab"});
  j = test::tiny_llama_config();
  j["num_hidden_layers"] = "two";
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"num_hidden_layers", "integer"});
  j = test::tiny_llama_config();
  j["num_attention_heads"] = 3;  // explicit odd head_dim: RoPE needs pairs
  j["num_key_value_heads"] = 3;
  j["head_dim"] = 3;
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"rope_dim"});
  expect_error([&] { hf_config_from_json("{not json", "c.json"); }, {"c.json", "JSON"});
  j = test::tiny_llama_config();
  j["num_key_value_heads"] = nullptr;  // null -> default = heads
  EXPECT_EQ(hf_config_from_json(j.dump(), "c").n_head_kv, 2);
}

TEST(HfConfig, ValidateBounds) {
  ModelConfig c = hf_config_from_json(test::tiny_llama_config().dump(), "c");
  EXPECT_NO_THROW(c.validate("c"));
  ModelConfig bad = c;
  bad.n_embd = 1 << 20;
  expect_error([&] { bad.validate("model.gguf"); }, {"model.gguf", "n_embd"});
  bad = c;
  bad.n_layer = 0;
  expect_error([&] { bad.validate("m"); }, {"n_layer"});
  bad = c;
  bad.n_vocab = (int64_t{1} << 22) + 1;
  expect_error([&] { bad.validate("m"); }, {"n_vocab"});
  bad = c;
  bad.n_ctx_train = int64_t{1} << 40;
  expect_error([&] { bad.validate("m"); }, {"n_ctx_train"});
  bad = c;
  bad.learned_pos = true;
  bad.rope = RopeStyle::None;
  bad.head_dim = 3;  // 2 heads * 3 != 8
  expect_error([&] { bad.validate("m"); }, {"n_embd"});
  bad = c;
  bad.norm_eps = std::nanf("");
  expect_error([&] { bad.validate("m"); }, {"epsilon"});
}


TEST(HfConfig, Gpt2AndQwen2Options) {
  json g = {{"model_type", "gpt2"}, {"vocab_size", 100}, {"n_embd", 32}, {"n_layer", 2}, {"n_head", 4}};
  ModelConfig c = hf_config_from_json(g.dump(), "g");  // no "architectures": model_type decides
  EXPECT_EQ(c.arch, "gpt2");
  EXPECT_EQ(c.n_ff, 128);
  EXPECT_EQ(c.n_ctx_train, 1024);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_TRUE(c.tied_head);
  g["activation_function"] = "gelu";  // exact erf GELU: computed as such
  EXPECT_EQ(hf_config_from_json(g.dump(), "g.json").act, Activation::GeluErf);
  g["activation_function"] = "relu";
  expect_error([&] { hf_config_from_json(g.dump(), "g.json"); }, {"g.json", "activation_function 'relu'"});
  g["activation_function"] = "gelu_new";
  g["n_head"] = 5;  // 32 / 5 does not split
  expect_error([&] { hf_config_from_json(g.dump(), "g.json"); }, {"n_embd"});
  g["n_head"] = 4;
  g["architectures"] = "GPT2LMHeadModel";  // not a list
  expect_error([&] { hf_config_from_json(g.dump(), "g.json"); }, {"architectures"});

  json q = json::parse(test::read_file(shared_path("configs/qwen2.5-0.5b-instruct/config.json")));
  q["use_sliding_window"] = true;
  q["sliding_window"] = 4096;
  EXPECT_EQ(hf_config_from_json(q.dump(), "q").n_ctx_train, 4096);
  q["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  expect_error([&] { hf_config_from_json(q.dump(), "q.json"); }, {"rope_scaling 'yarn'"});
}


TEST(HfConfig, HostileValuesRefusedCleanly) {
  json j = test::tiny_llama_config();
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  std::string text = j.dump();
  text.insert(1, "\"deep\":" + deep + ",");  // an unused key nested 100000 levels
  expect_error([&] { hf_config_from_json(text, "deep/config.json"); }, {"deep/config.json", "nested"});
  j["vocab_size"] = json::array({json::array({1})});
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"vocab_size", "must be an integer, found a JSON array"});
  j = test::tiny_llama_config();
  j["rms_norm_eps"] = 1e300;  // beyond float: becomes inf, refused by validate
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"epsilon"});
  j = test::tiny_llama_config();
  j["rope_theta"] = -1e300;
  expect_error([&] { hf_config_from_json(j.dump(), "c.json"); }, {"theta"});
  json g = {{"model_type", "gpt2"}, {"vocab_size", 100}, {"n_layer", 2}, {"n_head", 4},
            {"n_embd", int64_t{4611686018427387904}}};  // 4 * n_embd would overflow
  expect_error([&] { hf_config_from_json(g.dump(), "g.json"); }, {"g.json", "n_embd"});
}

}  // namespace
}  // namespace lmgen
