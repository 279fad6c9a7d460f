// The quantizer as a library (src/quantize/): the file-type table, the per-tensor plan and quantize_gguf's
// encoding on a ThreadPool (the bytes do not depend on the thread count; a stop leaves no file behind). The
// command's output is checked against llama-quantize's files in test_quantize.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common.hpp"
#include "format/gguf.hpp"
#include "lmgen/error.hpp"
#include "quantize/quantize.hpp"

namespace {

namespace fs = std::filesystem;

TEST(QuantizeFileTypes, NamesAreUniqueAndLookedUpWithoutCase) {
  std::set<std::string> names;
  std::set<uint32_t> ids;
  for (const lmgen::FileTypeInfo& f : lmgen::file_types()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(ids.insert(static_cast<uint32_t>(f.id)).second) << f.name;
    EXPECT_EQ(&lmgen::file_type_info(f.id), &f);
    EXPECT_EQ(lmgen::file_type_named(f.name).id, f.id);
  }
  EXPECT_EQ(lmgen::file_type_named("Q4_K_M").id, lmgen::FileType::Q4_K_M);
  // llama.cpp's general.file_type numbers, which llama.cpp reads back
  EXPECT_EQ(static_cast<uint32_t>(lmgen::FileType::Q8_0), 7u);
  EXPECT_EQ(static_cast<uint32_t>(lmgen::FileType::Q4_K_M), 15u);
  try {
    lmgen::file_type_named("q3_k_xl");
    ADD_FAILURE() << "an unknown type was accepted";
  } catch (const lmgen::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("q4_k_m"), std::string::npos) << e.what();
  }
}

TEST(QuantizePlan, RulesFollowTheTableRow) {
  // tiny-llama-kq: 256-wide rows, 2 layers, head tied to token_embd.
  const lmgen::GgufFile g(lmgen::test::shared_path("fixtures/tiny-llama-kq/model-q4_k_m.gguf"));
  auto type_of = [&](const std::vector<lmgen::TensorPlan>& plan, const std::string& name) {
    for (const lmgen::TensorPlan& p : plan)
      if (p.src->name == name) return p.type;
    ADD_FAILURE() << name;
    return lmgen::DType::F32;
  };
  const auto km = lmgen::plan_tensors(g, lmgen::file_type_named("q4_k_m"), false);
  EXPECT_EQ(type_of(km, "token_embd.weight"), lmgen::DType::Q6_K);  // the tied head
  EXPECT_EQ(type_of(km, "blk.1.attn_v.weight"), lmgen::DType::Q6_K);  // the "more bits" layer of two (7n/8)
  EXPECT_EQ(type_of(km, "blk.0.attn_v.weight"), lmgen::DType::Q4_K);
  EXPECT_EQ(type_of(km, "blk.1.ffn_down.weight"), lmgen::DType::Q6_K);
  EXPECT_EQ(type_of(km, "blk.0.attn_q.weight"), lmgen::DType::Q4_K);
  EXPECT_EQ(type_of(km, "blk.0.attn_norm.weight"), lmgen::DType::F32);
  const auto pure = lmgen::plan_tensors(g, lmgen::file_type_named("q4_k_m"), true);
  EXPECT_EQ(type_of(pure, "token_embd.weight"), lmgen::DType::Q4_K);
  EXPECT_EQ(type_of(pure, "blk.1.attn_v.weight"), lmgen::DType::Q4_K);
  const auto q8 = lmgen::plan_tensors(g, lmgen::file_type_named("q8_0"), false);
  EXPECT_EQ(type_of(q8, "token_embd.weight"), lmgen::DType::Q8_0);
}

TEST(QuantizeGguf, BytesDoNotDependOnTheThreadCount) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  const std::string dir = lmgen::test::scratch_dir() + "/quantize-lib";
  fs::create_directories(dir);
  std::string first;
  for (int threads : {1, 2, 3}) {
    lmgen::QuantizeOptions o;
    o.type = lmgen::FileType::Q4_K_M;
    o.n_threads = threads;
    int64_t tensors = 0;
    size_t planned = 0;
    o.on_plan = [&](const lmgen::QuantizePlan& p) { planned = p.tensors.size(); };
    o.on_tensor = [&](int64_t n, int64_t) { tensors = n; };
    const std::string out = dir + "/t" + std::to_string(threads) + ".gguf";
    const lmgen::QuantizePlan plan = lmgen::quantize_gguf(src, out, o);
    EXPECT_EQ(planned, plan.tensors.size());
    EXPECT_EQ(tensors, static_cast<int64_t>(plan.tensors.size()));
    const std::string bytes = lmgen::test::read_file(out);
    if (first.empty()) first = bytes;
    else EXPECT_TRUE(bytes == first) << threads << " threads wrote other bytes";
  }
}

TEST(QuantizeGguf, AStopLeavesNoFile) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  const std::string out = lmgen::test::scratch_dir() + "/quantize-stopped.gguf";
  for (const bool at_end : {false, true}) {  // during the tensors, and once the file is complete
    fs::remove(out);
    int calls = 0;
    lmgen::QuantizeOptions o;
    o.type = lmgen::FileType::Q8_0;
    o.n_threads = 1;
    o.poll = [&] {
      if (at_end ? fs::exists(out) : ++calls == 2) throw lmgen::Error("stopped");
    };
    EXPECT_THROW(lmgen::quantize_gguf(src, out, o), lmgen::Error) << at_end;
    EXPECT_FALSE(fs::exists(out)) << at_end;
    EXPECT_FALSE(fs::exists(out + ".tmp")) << at_end;
  }
}

TEST(QuantizeGguf, RefusesToOverwriteItsInput) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  lmgen::QuantizeOptions o;
  EXPECT_THROW(lmgen::quantize_gguf(src, src, o), lmgen::UsageError);
}

}  // namespace
