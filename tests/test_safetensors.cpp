// safetensors reader: the fixture files, sharded checkpoints, and malformed files written to a scratch dir.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "format/safetensors.hpp"

namespace lmgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::shared_path;

// Writes u64 header length + header + data to a scratch file; `len` overrides the length field.
std::string write_raw(const std::string& file, const std::string& header, const std::string& data,
                      int64_t len = -1) {
  const std::string path = test::scratch_dir() + "/" + file;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const uint64_t n = len < 0 ? header.size() : static_cast<uint64_t>(len);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
  return path;
}

// Expects constructing a SafetensorsFile on `path` to throw an Error whose message contains every `parts`.
void expect_load_error(const std::string& path, std::initializer_list<std::string> parts) {
  try {
    SafetensorsFile f(path);
    ADD_FAILURE() << path << ": expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// The header of a safetensors file, parsed independently of the reader under test.
struct RawHeader {
  uint64_t data_start = 0;
  json j;
};
RawHeader raw_header(const std::string& path) {
  std::string b = test::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  return {8 + n, json::parse(b.substr(8, n))};
}

TEST(Safetensors, TinyLlamaF32) {
  const std::string path = shared_path("fixtures/tiny-llama/hf/model.safetensors");
  SafetensorsFile f(path);
  EXPECT_EQ(f.tensors().size(), 3u + 9u * 2u);  // embed, norm, lm_head + 9 per layer
  TensorView e = f.tensor("model.embed_tokens.weight");
  EXPECT_EQ(e.type, DType::F32);
  EXPECT_EQ(e.shape, (std::vector<int64_t>{32000, 64}));
  EXPECT_EQ(e.nbytes, 32000u * 64u * 4u);
  TensorView k = f.tensor("model.layers.1.self_attn.k_proj.weight");
  EXPECT_EQ(k.shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(f.tensor("model.layers.0.mlp.down_proj.weight").shape, (std::vector<int64_t>{64, 160}));
  EXPECT_EQ(f.tensor("model.norm.weight").shape, (std::vector<int64_t>{64}));

  // Every view points exactly where the header says, and holds the file's bytes.
  RawHeader h = raw_header(path);
  EXPECT_EQ(f.data_start(), h.data_start);
  const std::string bytes = test::read_file(path);
  for (const auto& t : f.tensors()) {
    const auto& off = h.j[t.name]["data_offsets"];
    EXPECT_EQ(t.offset, h.data_start + off[0].get<uint64_t>()) << t.name;
    EXPECT_EQ(t.nbytes, off[1].get<uint64_t>() - off[0].get<uint64_t>()) << t.name;
    TensorView v = f.tensor(t.name);
    EXPECT_EQ(v.data, f.file()->data() + t.offset);
    EXPECT_EQ(std::memcmp(v.data, bytes.data() + t.offset, t.nbytes), 0) << t.name;
  }
}

TEST(Safetensors, TinyQwen2BF16) {
  SafetensorsFile f(shared_path("fixtures/tiny-qwen2/hf/model.safetensors"));
  EXPECT_EQ(f.tensors().size(), 2u + 12u * 2u);  // embed, norm + 12 per layer, no lm_head
  EXPECT_EQ(f.find_tensor("lm_head.weight"), nullptr);
  TensorView b = f.tensor("model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(b.type, DType::BF16);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{32}));
  EXPECT_EQ(b.nbytes, 64u);
  EXPECT_EQ(f.tensor("model.layers.1.self_attn.v_proj.bias").shape, (std::vector<int64_t>{16}));
  TensorView e = f.tensor("model.embed_tokens.weight");
  EXPECT_EQ(e.type, DType::BF16);
  EXPECT_EQ(e.shape, (std::vector<int64_t>{151936, 32}));
  // Norm gains are 1 + 0.1 N(0,1): widened BF16 values sit near 1.
  TensorView n = f.tensor("model.norm.weight");
  for (int i = 0; i < 32; ++i) {
    uint16_t u;
    std::memcpy(&u, n.data + 2 * i, 2);
    EXPECT_GT(bf16_to_fp32(u), 0.4f);
    EXPECT_LT(bf16_to_fp32(u), 1.6f);
  }
}

TEST(Safetensors, TinyGpt2F16) {
  SafetensorsFile f(shared_path("fixtures/tiny-gpt2/hf/model.safetensors"));
  TensorView w = f.tensor("transformer.h.0.attn.c_attn.weight");
  EXPECT_EQ(w.type, DType::F16);
  EXPECT_EQ(w.shape, (std::vector<int64_t>{64, 192}));
  EXPECT_EQ(f.tensor("transformer.wpe.weight").shape, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(f.tensor("transformer.h.1.mlp.c_proj.weight").shape, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(f.tensor("transformer.ln_f.bias").type, DType::F16);
  EXPECT_THROW(f.tensor("transformer.h.0.attn.bias"), Error);
}

TEST(Safetensors, ShardedCheckpointMatchesSingleFile) {
  auto sharded = SafetensorsCheckpoint::open_dir(shared_path("fixtures/tiny-llama/hf-sharded"));
  auto single = SafetensorsCheckpoint::open_dir(shared_path("fixtures/tiny-llama/hf"));
  EXPECT_TRUE(sharded.sharded());
  EXPECT_FALSE(single.sharded());
  EXPECT_EQ(sharded.files().size(), 2u);
  EXPECT_EQ(sharded.names(), single.names());
  EXPECT_NE(sharded.file_of("model.embed_tokens.weight"), sharded.file_of("lm_head.weight"));
  EXPECT_NE(sharded.file_of("model.layers.0.mlp.up_proj.weight")->path().find("model-00001-of-00002"),
            std::string::npos);
  for (const auto& name : single.names()) {
    TensorView a = single.tensor(name), b = sharded.tensor(name);
    EXPECT_EQ(a.shape, b.shape) << name;
    ASSERT_EQ(a.nbytes, b.nbytes) << name;
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << name;
  }
  try {
    sharded.tensor("model.layers.7.mlp.up_proj.weight");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors.index.json: missing tensor model.layers.7.mlp.up_proj"),
              std::string::npos)
        << e.what();
  }
}

// A scratch directory holding an edited index next to links to the real shards.
std::string sharded_copy(const std::string& name, const std::function<void(json&)>& edit, bool link_shards) {
  const std::string src = shared_path("fixtures/tiny-llama/hf-sharded");
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  json idx = json::parse(test::read_file(src + "/model.safetensors.index.json"));
  edit(idx);
  std::ofstream(dir + "/model.safetensors.index.json") << idx.dump(2);
  if (link_shards)
    for (const char* s : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"})
      fs::create_symlink(src + "/" + s, dir + "/" + s);
  return dir;
}

void expect_dir_error(const std::string& dir, std::initializer_list<std::string> parts) {
  try {
    SafetensorsCheckpoint::open_dir(dir);
    ADD_FAILURE() << dir << ": expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(Safetensors, ShardedMissingShard) {
  const std::string dir = sharded_copy("no-shards", [](json&) {}, false);
  expect_dir_error(dir, {dir + "/model-0000", "missing shard", dir + "/model.safetensors.index.json"});
}

TEST(Safetensors, ShardedTensorNotInItsShard) {
  const std::string dir = sharded_copy(
      "wrong-shard", [](json& j) { j["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors"; }, true);
  expect_dir_error(dir, {dir + "/model-00001-of-00002.safetensors", "missing tensor model.norm.weight",
                         "model.safetensors.index.json"});
}

TEST(Safetensors, ShardedBadIndex) {
  const std::string dir = sharded_copy("bad-index", [](json& j) { j.erase("weight_map"); }, true);
  expect_dir_error(dir, {"model.safetensors.index.json", "weight_map"});
  const std::string dir2 = sharded_copy(
      "escape-index", [](json& j) { j["weight_map"]["model.norm.weight"] = "../model-00002-of-00002.safetensors"; },
      true);
  expect_dir_error(dir2, {"invalid shard file"});
}

TEST(Safetensors, DirectoryWithoutWeights) {
  const std::string dir = test::scratch_dir() + "/empty-model";
  fs::create_directories(dir);
  expect_dir_error(dir, {dir, "model.safetensors"});
  std::ofstream(dir + "/pytorch_model.bin") << "not really";
  expect_dir_error(dir, {dir, "pytorch_model.bin", "not supported"});
}

const std::string kGood =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
    R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}})";

TEST(Safetensors, SmallValidFile) {
  std::string data(22, '\0');
  const float vals[4] = {1.5f, -2.0f, 0.25f, 8.0f};
  std::memcpy(data.data(), vals, 16);
  const uint16_t h[3] = {fp32_to_fp16(3.0f), fp32_to_fp16(-0.5f), fp32_to_fp16(65504.0f)};
  std::memcpy(data.data() + 16, h, 6);
  const std::string path = write_raw("good.safetensors", kGood, data);
  SafetensorsFile f(path);
  ASSERT_EQ(f.tensors().size(), 2u);
  TensorView a = f.tensor("a");
  float got[4];
  std::memcpy(got, a.data, 16);
  EXPECT_EQ(got[1], -2.0f);
  EXPECT_EQ(got[3], 8.0f);
  TensorView b = f.tensor("b");
  uint16_t hb;
  std::memcpy(&hb, b.data + 4, 2);
  EXPECT_EQ(fp16_to_fp32(hb), 65504.0f);
  EXPECT_EQ(f.find_tensor("__metadata__"), nullptr);
}

TEST(Safetensors, UnalignedAndEmptyTensorsAccepted) {
  // One F16 element first puts the F32 tensor at data offset 2; zero-size tensors share an offset.
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"f":{"dtype":"F32","shape":[2],"data_offsets":[2,10]},)"
      R"("z1":{"dtype":"F32","shape":[0,5],"data_offsets":[2,2]},"z2":{"dtype":"BF16","shape":[0],"data_offsets":[2,2]},)"
      R"("s":{"dtype":"F32","shape":[],"data_offsets":[10,14]}})";
  std::string data(14, '\0');
  const float v[3] = {7.0f, -3.0f, 42.0f};
  std::memcpy(data.data() + 2, v, 12);
  SafetensorsFile f(write_raw("unaligned.safetensors", header, data));
  TensorView t = f.tensor("f");
  float x;
  std::memcpy(&x, t.data + 4, 4);
  EXPECT_EQ(x, -3.0f);
  EXPECT_EQ(f.tensor("z1").n_elements(), 0);
  EXPECT_EQ(f.tensor("s").n_elements(), 1);
  std::memcpy(&x, f.tensor("s").data, 4);
  EXPECT_EQ(x, 42.0f);
}

TEST(Safetensors, UnsupportedDtypeRefusedOnUse) {
  const std::string header =
      R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}})";
  const std::string path = write_raw("i64.safetensors", header, std::string(20, '\0'));
  SafetensorsFile f(path);
  EXPECT_NO_THROW(f.tensor("w"));
  ASSERT_NE(f.find_tensor("ids"), nullptr);
  EXPECT_FALSE(f.find_tensor("ids")->supported);
  try {
    f.tensor("ids");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'ids'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("I64"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
}

TEST(Safetensors, MalformedHeaders) {
  const std::string d16(16, '\0');
  expect_load_error(write_raw("huge.safetensors", kGood, std::string(22, '\0'), int64_t{1} << 40), {"absurd"});
  expect_load_error(write_raw("past-file.safetensors", kGood, std::string(22, '\0'), 5000), {"truncated"});
  expect_load_error(write_raw("notjson.safetensors", "{\"a\": [1, 2", d16), {"JSON"});
  expect_load_error(write_raw("array.safetensors", "[1, 2]", d16), {"not a JSON object"});
  expect_load_error(write_raw("overlap.safetensors",
                         R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                         d16),
               {"'a'", "'b'", "overlap"});
  expect_load_error(write_raw("pastend.safetensors", R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", d16),
               {"'a'", "past the end"});
  expect_load_error(write_raw("dtype.safetensors", R"({"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", d16),
               {"'a'", "unknown dtype 'Q4'"});
  expect_load_error(write_raw("mismatch.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", d16),
               {"'a'", "[3]", "12 bytes"});
  expect_load_error(write_raw("negshape.safetensors", R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", d16),
               {"'a'", "non-negative"});
  expect_load_error(write_raw("floatshape.safetensors", R"({"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", d16),
               {"'a'", "non-negative"});
  expect_load_error(write_raw("overflow.safetensors",
                         R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})", d16),
               {"'a'", "too many"});
  expect_load_error(write_raw("reversed.safetensors", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", d16),
               {"'a'", "end before"});
  expect_load_error(write_raw("nooffsets.safetensors", R"({"a":{"dtype":"F32","shape":[4]}})", d16),
               {"'a'", "data_offsets"});
  expect_load_error(write_raw("noshape.safetensors", R"({"a":{"dtype":"F32","data_offsets":[0,16]}})", d16),
               {"'a'", "shape"});
  expect_load_error(write_raw("entry.safetensors", R"({"a":5})", d16), {"'a'", "not an object"});

  // Nested values are refused before anything walks or prints them (a recursive dump would overflow the stack).
  std::string deep = R"({"a":{"dtype":"F32","shape":)" + std::string(100000, '[') + std::string(100000, ']') +
                     R"(,"data_offsets":[0,16]}})";
  expect_load_error(write_raw("deep.safetensors", deep, d16), {"nested"});
  expect_load_error(write_raw("nestedshape.safetensors", R"({"a":{"dtype":"F32","shape":[[4]],"data_offsets":[0,16]}})", d16),
               {"'a'", "shape [array]"});

  // Truncated: fewer than 8 bytes, and a valid header whose data was cut off.
  const std::string tiny = test::scratch_dir() + "/tiny.safetensors";
  std::ofstream(tiny, std::ios::binary) << "abc";
  expect_load_error(tiny, {"too short"});
  expect_load_error(write_raw("cut.safetensors", kGood, std::string(20, '\0')), {"'b'", "past the end"});
}

}  // namespace
}  // namespace lmgen
