// GgufWriter: files it writes read back with GgufFile and with the independent layout walker (gguf_layout.hpp):
// metadata of every kind, tensor shapes/types/bytes, aligned offsets, zero padding, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "common.hpp"
#include "gguf_layout.hpp"
#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "format/gguf_writer.hpp"
#include "kernels/quant.hpp"

namespace {

using lmgen::DType;
using lmgen::GgufFile;
using lmgen::GgufWriter;

std::string tmp_path(const std::string& name) { return lmgen::test::scratch_dir() + "/" + name; }

// Bytes produced by a simple pattern, so a misplaced tensor shows up.
GgufWriter::Producer pattern(uint8_t seed) {
  return [seed](uint8_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(seed + i * 7);
  };
}

TEST(GgufWriter, RoundTripMetadataAndTensors) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u8("t.u8", 200);
  w.set_i32("t.i32", -123456);
  w.set_u32("t.u32", 4000000000u);
  w.set_u64("t.u64", 1ULL << 40);
  w.set_f32("t.f32", 0.25f);
  w.set_bool("t.bool", true);
  w.set_string_array("t.strs", std::vector<std::string>{"a", "", "héllo"});
  w.set_f32_array("t.f32s", {1.5f, -2.0f});
  w.set_i32_array("t.i32s", {7, -8, 9});
  w.set_u32("t.u32", 5);  // replaced in place
  // Q8_0 blocks need a valid-looking layout only for dequantisation, not for storage.
  std::vector<float> q8_src(2 * 64);
  for (size_t i = 0; i < q8_src.size(); ++i) q8_src[i] = std::sin(static_cast<float>(i));
  w.add_tensor("a", DType::F32, {3, 5}, pattern(1));
  w.add_tensor("b", DType::F16, {7}, pattern(2));
  w.add_tensor("c", DType::Q8_0, {2, 64}, [&](uint8_t* dst, size_t n) {
    ASSERT_EQ(n, 2 * lmgen::row_bytes(DType::Q8_0, 64));
    lmgen::quantize_row(DType::Q8_0, q8_src.data(), dst, 64);
    lmgen::quantize_row(DType::Q8_0, q8_src.data() + 64, dst + n / 2, 64);
  });
  w.add_tensor("d", DType::F32, {2, 3, 4}, pattern(3));
  const std::string path = tmp_path("roundtrip.gguf");
  w.write(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  GgufFile g(path);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.find("t.u8")->type, lmgen::GgufType::U8);
  EXPECT_EQ(g.get_int("t.u8"), 200);
  EXPECT_EQ(g.get_int("t.i32"), -123456);
  EXPECT_EQ(g.get_int("t.u32"), 5);
  EXPECT_EQ(g.get_int("t.u64"), 1LL << 40);
  EXPECT_EQ(g.get_float("t.f32"), 0.25);
  EXPECT_EQ(g.get_bool_opt("t.bool"), std::optional<bool>(true));
  const auto& strs = g.get_string_array("t.strs");
  ASSERT_EQ(strs.size(), 3u);
  EXPECT_EQ(strs[0], "a");
  EXPECT_EQ(strs[1], "");
  EXPECT_EQ(strs[2], "héllo");
  EXPECT_EQ(g.get_f32_array("t.f32s"), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(g.get_i32_array("t.i32s"), (std::vector<int32_t>{7, -8, 9}));
  EXPECT_EQ(g.metadata().size(), 10u);

  ASSERT_EQ(g.tensors().size(), 4u);
  const lmgen::TensorView a = g.tensor("a"), b = g.tensor("b"), c = g.tensor("c"), d = g.tensor("d");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(b.shape, (std::vector<int64_t>{7}));
  EXPECT_EQ(c.shape, (std::vector<int64_t>{2, 64}));
  EXPECT_EQ(d.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(g.find_tensor("d")->ne, (std::vector<int64_t>{4, 3, 2}));
  EXPECT_EQ(b.type, DType::F16);
  EXPECT_EQ(c.type, DType::Q8_0);
  for (const auto* t : {&a, &b, &d}) {
    uint8_t seed = t == &a ? 1 : t == &b ? 2 : 3;
    for (size_t i = 0; i < t->nbytes; ++i) ASSERT_EQ(t->data[i], static_cast<uint8_t>(seed + i * 7)) << t->name;
  }
  std::vector<float> back(64);
  lmgen::dequantize_row(DType::Q8_0, c.data + c.nbytes / 2, back.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(back[i], q8_src[64 + i], 0.01f);

  // Layout rules, checked with the independent walker: offsets aligned and increasing, data section aligned,
  // padding zero, the file ends at the padded end of the last tensor.
  const std::string bytes = lmgen::test::read_file(path);
  const auto L = lmgen::test::GgufLayout::parse(bytes);
  EXPECT_EQ(L.data_start % 32, 0u);
  for (size_t i = L.infos_end; i < L.data_start; ++i) EXPECT_EQ(bytes[i], '\0');
  uint64_t expect = 0;
  for (const auto& t : L.tensors) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(t.offset, expect) << t.name;
    const size_t n = g.find_tensor(t.name)->nbytes;
    for (uint64_t k = L.data_start + t.offset + n; k < L.data_start + (t.offset + n + 31) / 32 * 32; ++k)
      EXPECT_EQ(bytes[k], '\0') << t.name;
    expect = (t.offset + n + 31) / 32 * 32;
  }
  EXPECT_EQ(bytes.size(), L.data_start + expect);
}

// The writer hands the file to the kernel in 2 MiB pieces (for huge-page-friendly page cache): tensors that straddle
// piece boundaries must come back byte for byte. The bytes hash their position, so a repeated or shifted piece shows.
TEST(GgufWriter, LargeTensorsCrossingWriteChunksRoundTrip) {
  auto hashed = [](uint32_t seed) {
    return [seed](uint8_t* dst, size_t n) {
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(((i + seed) * 2654435761u) >> 24);
    };
  };
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("a", DType::F32, {3, (1 << 18) + 1}, hashed(1));  // 3 MiB + 12 bytes
  w.add_tensor("b", DType::F32, {5}, hashed(2));
  w.add_tensor("c", DType::F32, {(5 << 18) + 3}, hashed(3));  // 5 MiB + 12 bytes
  const std::string path = tmp_path("chunks.gguf");
  w.write(path);
  GgufFile g(path);
  ASSERT_GT(std::filesystem::file_size(path), size_t{8} << 20);
  uint32_t seed = 1;
  for (const char* name : {"a", "b", "c"}) {
    const lmgen::TensorView t = g.tensor(name);
    ASSERT_EQ(t.nbytes, lmgen::row_bytes(DType::F32, t.shape.back()) * (t.shape.size() == 2 ? t.shape[0] : 1));
    for (size_t i = 0; i < t.nbytes; ++i)
      ASSERT_EQ(t.data[i], static_cast<uint8_t>(((i + seed) * 2654435761u) >> 24)) << name << " byte " << i;
    ++seed;
  }
}

TEST(GgufWriter, HonoursGeneralAlignment) {
  GgufWriter w;
  w.set_u32("general.alignment", 64);
  w.add_tensor("x", DType::F32, {3}, pattern(1));
  w.add_tensor("y", DType::F32, {5}, pattern(2));
  const std::string path = tmp_path("align64.gguf");
  w.write(path);
  GgufFile g(path);
  EXPECT_EQ(g.alignment(), 64u);
  const std::string bytes = lmgen::test::read_file(path);
  for (const auto& t : g.tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
  EXPECT_EQ(g.find_tensor("y")->offset - g.find_tensor("x")->offset, 64u);

  GgufWriter bad;
  bad.set_u32("general.alignment", 48);
  EXPECT_THROW(bad.write(tmp_path("align48.gguf")), lmgen::Error);
}

TEST(GgufWriter, CopiesAVocabularyFileValueForValue) {
  GgufFile src(lmgen::test::shared_path("vocab/ggml-vocab-llama-spm.gguf"));
  GgufWriter w;
  for (const auto& [k, v] : src.metadata()) w.set_value(k, v);
  const std::string path = tmp_path("vocab-copy.gguf");
  w.write(path);
  GgufFile g(path);
  ASSERT_EQ(g.metadata().size(), src.metadata().size());
  for (const auto& [k, v] : src.metadata()) {
    const lmgen::GgufValue* c = g.find(k);
    ASSERT_NE(c, nullptr) << k;
    EXPECT_EQ(c->type, v.type) << k;
    if (v.type == lmgen::GgufType::ARRAY) {
      EXPECT_EQ(c->elem_type, v.elem_type) << k;
      ASSERT_EQ(c->count, v.count) << k;
      if (v.elem_type == lmgen::GgufType::STRING) {
        EXPECT_EQ(c->strings, v.strings) << k;
      } else if (v.elem_type == lmgen::GgufType::F32) {
        EXPECT_EQ(g.get_f32_array(k), src.get_f32_array(k)) << k;
      } else if (v.elem_type == lmgen::GgufType::I32) {
        EXPECT_EQ(g.get_i32_array(k), src.get_i32_array(k)) << k;
      }
    } else if (v.type == lmgen::GgufType::STRING) {
      EXPECT_EQ(c->str, v.str) << k;
    } else {
      EXPECT_EQ(c->u, v.u) << k;
      EXPECT_EQ(c->i, v.i) << k;
      EXPECT_EQ(c->f, v.f) << k;
    }
  }
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
}

TEST(GgufWriter, RejectsBadTensorsAndCleansUpAfterAFailedProducer) {
  GgufWriter w;
  w.add_tensor("x", DType::F32, {4}, pattern(1));
  EXPECT_THROW(w.add_tensor("x", DType::F32, {4}, pattern(1)), lmgen::Error);          // duplicate
  EXPECT_THROW(w.add_tensor("q", DType::Q8_0, {2, 33}, pattern(1)), lmgen::Error);     // not whole blocks
  EXPECT_THROW(w.add_tensor("z", DType::F32, {2, 0}, pattern(1)), lmgen::Error);       // empty dimension
  EXPECT_THROW(w.add_tensor("e", DType::F32, {}, pattern(1)), lmgen::Error);           // no dimensions
  EXPECT_EQ(w.n_tensors(), 1u);
  w.add_tensor("boom", DType::F32, {4}, [](uint8_t*, size_t) { throw lmgen::Error("producer failed"); });
  const std::string path = tmp_path("failed.gguf");
  try {
    w.write(path);
    FAIL() << "write should have thrown";
  } catch (const lmgen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("producer failed"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(GgufWriter().write("/nonexistent-dir/x.gguf"), lmgen::Error);
}

}  // namespace
