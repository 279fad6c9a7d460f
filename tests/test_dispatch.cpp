// The run-time choice of kernel family (src/kernels/dispatch.hpp) end to end: the model reference tests pass
// with every family this CPU can run (each in a child process of this test binary with LMGEN_ISA set), greedy
// output is the same on every family, and a bad LMGEN_ISA is a one-line error.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "common.hpp"
#include "kernels/dispatch.hpp"
#include "lmgen_run.hpp"

namespace {

namespace simd = lmgen::simd;
using lmgen::test::run_lmgen;
using lmgen::test::run_process;

std::vector<simd::Isa> runnable_families() {
  std::vector<simd::Isa> v;
  for (simd::Isa i : simd::kAllIsas)
    if (simd::isa_compiled(i) && simd::isa_supported(i)) v.push_back(i);
  return v;
}

// The logit reference tests (every family and quantization type of the fixtures, within their tolerances) again
// under each family other than the one this process uses.
TEST(KernelDispatch, ModelReferenceTestsPassOnEveryFamily) {
  std::string ran;
  for (simd::Isa isa : runnable_families()) {
    if (isa == simd::active_isa()) continue;  // this process runs them already
    SCOPED_TRACE(simd::isa_name(isa));
    const auto r = run_process("/proc/self/exe", {"--gtest_filter=ModelRefs.*:FamilyRefs.*:HfRefs.*:LoraRefs.*", "--gtest_brief=1"},
                               600, "", false, {std::string("LMGEN_ISA=") + simd::isa_name(isa)});
    EXPECT_EQ(r.exit_code, 0) << r.describe() << "\n" << r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0);
    EXPECT_NE(r.out.find("PASSED"), std::string::npos) << r.out;
    ran += std::string(" ") + simd::isa_name(isa);
  }
  std::cout << "[ families ] reference tests re-run with LMGEN_ISA =" << (ran.empty() ? " (none: one family here)" : ran)
            << "\n";
  EXPECT_FALSE(ran.empty()) << "every build has the scalar family besides the one in use";
}

TEST(KernelDispatch, GreedyTextIsTheSameOnEveryFamily) {
  const std::string model = lmgen::test::shared_path("fixtures/tiny-llama/model-q4_0.gguf");
  std::string first;
  for (simd::Isa isa : runnable_families()) {
    SCOPED_TRACE(simd::isa_name(isa));
    const auto r = run_lmgen({"-m", model, "-p", "Once upon a time", "-n", "24", "--temp", "0", "--ignore-eos", "-q"},
                             60, "", false, {std::string("LMGEN_ISA=") + simd::isa_name(isa)});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    ASSERT_FALSE(r.out.empty());
    if (first.empty()) first = r.out;
    EXPECT_EQ(r.out, first);
  }
}

TEST(KernelDispatch, VersionAndBenchNameTheFamily) {
  for (simd::Isa isa : runnable_families()) {
    const std::string env = std::string("LMGEN_ISA=") + simd::isa_name(isa);
    const auto v = run_lmgen({"--version"}, 20, "", false, {env});
    ASSERT_EQ(v.exit_code, 0) << v.describe();
    EXPECT_NE(v.out.find(std::string("\nkernels: ") + simd::isa_name(isa) + " (LMGEN_ISA)"), std::string::npos) << v.out;
    // and the kernel of every weight type, with the activation type it pairs them with
    for (const char* t : {"q2_k", "q3_k", "iq4_xs", "iq3_s"})
      EXPECT_NE(v.out.find(std::string(t) + " " + simd::isa_name(isa) + " x q8_k"), std::string::npos) << v.out;
    EXPECT_NE(v.out.find(std::string("iq4_nl ") + simd::isa_name(isa) + " x q8_0"), std::string::npos) << v.out;
    const auto b = run_lmgen({"bench", "-m", lmgen::test::stories_gguf(), "-p", "8",
                              "-n", "4", "-r", "1", "-t", "1", "--jsonl", "-q"},
                             60, "", false, {env});
    ASSERT_EQ(b.exit_code, 0) << b.describe();
    EXPECT_NE(b.out.find(std::string("\"kernels\":\"") + simd::isa_name(isa) + "\""), std::string::npos) << b.out;
    EXPECT_NE(b.out.find(std::string("\"weight_kernels\":{\"f32\":\"") + simd::isa_name(isa) + " x f32\"}"),
              std::string::npos)
        << b.out;
  }
}

// -v at load lists the weight matrices by type (a tied head counted once) and the kernel of each type.
TEST(KernelDispatch, VerboseLoadListsTheTensorTypes) {
  const auto r = run_lmgen({"-m", lmgen::test::shared_path("fixtures/tiny-llama-kq/model-q3_k_m.gguf"), "-p", "Hi", "-n",
                            "1", "-v"},
                           60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("weight matrices by type: q3_k x8, q4_k x4, q5_k x2, q6_k x1;"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::string("q3_k ") + simd::isa_name(simd::active_isa()) + " x q8_k"), std::string::npos) << r.err;
}

TEST(KernelDispatch, BadFamilyIsAOneLineError) {
  const std::string model = lmgen::test::stories_gguf();
  const auto r = run_lmgen({"-m", model, "-n", "4"}, 20, "", false, {"LMGEN_ISA=avx9000"});
  EXPECT_TRUE(lmgen::test::clean_failure(r, 1, "LMGEN_ISA=avx9000"));
  for (simd::Isa isa : simd::kAllIsas) {
    if (!simd::isa_compiled(isa) || simd::isa_supported(isa)) continue;  // only a family this CPU cannot run
    const auto u = run_lmgen({"-m", model, "-n", "4"}, 20, "", false, {std::string("LMGEN_ISA=") + simd::isa_name(isa)});
    EXPECT_TRUE(lmgen::test::clean_failure(u, 1, "this CPU cannot run them"));
  }
}

}  // namespace
