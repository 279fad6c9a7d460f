// matmul for every weight type against a double-precision reference, SIMD vs scalar kernels (every kernel family
// this CPU can run, not only the one in use), and bit-identical results across thread counts and batch sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant.hpp"
#include "kernels/threads.hpp"

namespace {

using lmgen::DType;

// Offsets of the fp16 scale fields inside one block (random bytes elsewhere are valid quants).
std::vector<int> half_fields(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: return {0};
    case DType::IQ4_NL: case DType::IQ4_XS: case DType::IQ3_S: return {0};
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return {0, 2};
    case DType::Q2_K: return {80, 82};
    case DType::Q3_K: return {108};
    case DType::Q6_K: return {208};
    default: return {};
  }
}

// A random weight matrix of type t, rows x cols, as raw row bytes (contiguous rows).
std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t rb = lmgen::row_bytes(t, cols);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  if (t == DType::F32 || t == DType::F16 || t == DType::BF16) {
    std::normal_distribution<float> nd(0.0f, 0.1f);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& x : row) x = nd(rng);
      lmgen::quantize_row(t, row.data(), w.data() + r * rb, cols);
    }
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  const auto& tr = lmgen::dtype_traits(t);
  std::uniform_real_distribution<float> ud(-0.02f, 0.02f);
  for (size_t off = 0; off < w.size(); off += static_cast<size_t>(tr.type_size))
    for (int f : half_fields(t)) {
      const uint16_t h = lmgen::fp32_to_fp16(ud(rng));
      std::memcpy(w.data() + off + f, &h, 2);
    }
  return w;
}

std::vector<float> random_acts(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = nd(rng);
  return v;
}

lmgen::Matrix make_matrix(DType t, int64_t rows, int64_t cols, const std::vector<uint8_t>& w) {
  lmgen::Matrix m;
  m.type = t;
  m.rows = rows;
  m.cols = cols;
  m.data = w.data();
  m.row_stride = lmgen::row_bytes(t, cols);
  return m;
}

// The activation row as the kernels see it (after the 8-bit encoding for quantized weights), in F32.
std::vector<float> seen_activation(DType wt, const float* x, int64_t n) {
  const DType at = lmgen::vec_dot_type(wt);
  if (at == DType::F32) return std::vector<float>(x, x + n);
  std::vector<uint8_t> q(lmgen::row_bytes(at, n));
  lmgen::quantize_activation_row(at, x, q.data(), n);
  std::vector<float> y(static_cast<size_t>(n));
  lmgen::dequantize_row(at, q.data(), y.data(), n);
  return y;
}

// n_act activation rows of x encoded as kernel t sees them (ab bytes each).
std::vector<uint8_t> encode_activations(DType t, const std::vector<float>& x, int64_t cols, int n_act, size_t& ab) {
  const DType at = lmgen::vec_dot_type(t);
  ab = lmgen::row_bytes(at, cols);
  std::vector<uint8_t> act(ab * n_act);
  for (int k = 0; k < n_act; ++k) lmgen::quantize_activation_row(at, x.data() + k * cols, act.data() + k * ab, cols);
  return act;
}

// sum |w_c * xa_c| over weight row r of m (the scale of a dot product's float rounding).
double row_magnitude(const lmgen::Matrix& m, int64_t r, const std::vector<float>& xa) {
  std::vector<float> wrow(static_cast<size_t>(m.cols));
  lmgen::matrix_row_f32(m, r, wrow.data());
  double mag = 0;
  for (int64_t c = 0; c < m.cols; ++c) mag += std::fabs(static_cast<double>(wrow[c]) * xa[c]);
  return mag;
}

void check_against_reference(DType t, int64_t cols);

// One kernel family's fn on rows x cols random weights of type t and n_act random activations: every output within
// float rounding of the scalar reference, and each activation alone (every row in one call) bit-identical to the
// batch. Leaves the weights, activations and batch outputs (activation k's at [k * rows, (k + 1) * rows)) in c.
struct FamilyCase {
  std::vector<uint8_t> wb;
  lmgen::Matrix m;
  std::vector<uint8_t> act;
  size_t ab = 0;
  std::vector<float> batched;
};
void check_family(lmgen::simd::RowsFn fn, DType t, int64_t rows, int64_t cols, int n_act, uint32_t seed,
                  FamilyCase& c) {
  c.wb = random_weights(t, rows, cols, seed);
  c.m = make_matrix(t, rows, cols, c.wb);
  const auto x = random_acts(n_act * cols, seed + 1);
  c.act = encode_activations(t, x, cols, n_act, c.ab);
  c.batched.assign(static_cast<size_t>(rows * n_act), -1.0f);
  ASSERT_TRUE(fn(t, cols, c.m.data, c.m.row_stride, rows, c.act.data(), c.ab, n_act, c.batched.data(), rows));
  for (int k = 0; k < n_act; ++k) {
    const auto xa = seen_activation(t, x.data() + k * cols, cols);
    std::vector<float> one(static_cast<size_t>(rows), -1.0f);
    ASSERT_TRUE(fn(t, cols, c.m.data, c.m.row_stride, rows, c.act.data() + k * c.ab, c.ab, 1, one.data(), rows));
    for (int64_t r = 0; r < rows; ++r) {
      const double mag = row_magnitude(c.m, r, xa);
      const float ref = lmgen::vec_dot_scalar(t, cols, c.m.row(r), c.act.data() + k * c.ab);
      const float got = c.batched[k * rows + r];
      ASSERT_NEAR(got, ref, 2e-5 * mag + 1e-6) << "activation " << k << " row " << r;
      ASSERT_EQ(std::memcmp(&one[r], &got, 4), 0) << "activation " << k << " row " << r << " alone";
    }
  }
}

class MatmulTypes : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulTypes, MatchesDoubleReference) {
  const DType t = GetParam();
  // 512 columns, and for 32-element blocks also an odd number of blocks (the pair kernels' half-empty last pair).
  check_against_reference(t, 512);
  if (lmgen::dtype_traits(t).block_size == 32) check_against_reference(t, 544);
}

void check_against_reference(DType t, int64_t cols) {
  SCOPED_TRACE("cols " + std::to_string(cols));
  const int64_t rows = 131, n_tok = 5;
  const auto wb = random_weights(t, rows, cols, 1234);
  const auto m = make_matrix(t, rows, cols, wb);
  const auto x = random_acts(n_tok * cols, 99);
  std::vector<float> y(static_cast<size_t>(n_tok * rows));
  lmgen::ThreadPool pool(2);
  lmgen::matmul(m, x.data(), n_tok, y.data(), pool);

  const bool has_min = t == DType::Q4_1 || t == DType::Q5_1;  // min term uses the fp16 block sum s
  std::vector<float> wrow(static_cast<size_t>(cols));
  for (int64_t tk = 0; tk < n_tok; ++tk) {
    const float* xt = x.data() + tk * cols;
    const auto xa = seen_activation(t, xt, cols);
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(xt[c]));
    for (int64_t r = 0; r < rows; ++r) {
      lmgen::matrix_row_f32(m, r, wrow.data());
      double ref = 0, mag = 0, ref_exact = 0, wabs = 0;
      for (int64_t c = 0; c < cols; ++c) {
        ref += static_cast<double>(wrow[c]) * xa[c];
        mag += std::fabs(static_cast<double>(wrow[c]) * xa[c]);
        ref_exact += static_cast<double>(wrow[c]) * xt[c];
        wabs += std::fabs(wrow[c]);
      }
      const double got = y[tk * rows + r];
      EXPECT_NEAR(got, ref, (has_min ? 1e-3 : 2e-5) * mag + 1e-6) << "token " << tk << " row " << r;
      // Activation encoding error is at most half a quantization step (amax/127) per element.
      if (lmgen::vec_dot_type(t) != DType::F32) {
        EXPECT_NEAR(got, ref_exact, wabs * amax / 250.0 + 1e-3 * mag + 1e-6) << "token " << tk << " row " << r;
      }
      // SIMD and scalar kernels agree.
      std::vector<uint8_t> act(lmgen::row_bytes(lmgen::vec_dot_type(t), cols));
      lmgen::quantize_activation_row(lmgen::vec_dot_type(t), xt, act.data(), cols);
      const float s = lmgen::vec_dot_scalar(t, cols, m.row(r), act.data());
      EXPECT_NEAR(s, got, 2e-5 * mag + 1e-6) << "scalar vs " << lmgen::vec_dot_isa();
    }
  }
}

TEST_P(MatmulTypes, BitIdenticalAcrossThreadsAndBatchSizes) {
  const DType t = GetParam();
  const int64_t rows = 301, cols = 800 / lmgen::dtype_traits(t).block_size * lmgen::dtype_traits(t).block_size;
  const int64_t n_tok = 150;  // more than one token tile
  const auto wb = random_weights(t, rows, cols, 77);
  const auto m = make_matrix(t, rows, cols, wb);
  const auto x = random_acts(n_tok * cols, 5);
  std::vector<float> base(static_cast<size_t>(n_tok * rows));
  {
    lmgen::ThreadPool p1(1);
    for (int64_t tk = 0; tk < n_tok; ++tk) lmgen::matmul(m, x.data() + tk * cols, 1, base.data() + tk * rows, p1);
  }
  for (int nt : {1, 2, 3}) {
    lmgen::ThreadPool pool(nt);
    for (int64_t batch : {int64_t{1}, int64_t{3}, int64_t{8}, int64_t{64}, n_tok}) {  // 3, 8: small-batch kernels
      std::vector<float> y(base.size(), -1.0f);
      for (int64_t t0 = 0; t0 < n_tok; t0 += batch) {
        const int64_t nb = std::min(batch, n_tok - t0);
        lmgen::matmul(m, x.data() + t0 * cols, nb, y.data() + t0 * rows, pool);
      }
      ASSERT_EQ(std::memcmp(y.data(), base.data(), y.size() * 4), 0)
          << lmgen::dtype_name(t) << " threads " << nt << " batch " << batch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTypes,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1,
                                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS,
                                           DType::IQ3_S),
                         [](const auto& info) { return std::string(lmgen::dtype_name(info.param)); });

// Every kernel family compiled in and runnable here, on every type: within float rounding of the scalar reference,
// and each family bit-identical to itself whatever the number of rows and activations computed together.
TEST(KernelFamilies, EveryFamilyMatchesScalarOnEveryType) {
  namespace simd = lmgen::simd;
  std::string ran, lacking;
  for (simd::Isa isa : simd::kAllIsas) {
    const simd::RowsFn fn = simd::rows_kernel(isa);
    if (!fn) continue;  // scalar, or not compiled for this architecture
    if (!simd::isa_supported(isa)) {
      lacking += std::string(" ") + simd::isa_name(isa);
      continue;
    }
    ran += std::string(" ") + simd::isa_name(isa);
    SCOPED_TRACE(simd::isa_name(isa));
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                    DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL,
                    DType::IQ4_XS, DType::IQ3_S}) {
      SCOPED_TRACE(lmgen::dtype_name(t));
      const int64_t bs = lmgen::dtype_traits(t).block_size;
      const int64_t rows = 37, cols = bs == 32 ? 544 : 512 + (t == DType::F32 ? 13 : 0);  // odd pairs, float tails
      const int n_act = 11;
      FamilyCase c;
      ASSERT_NO_FATAL_FAILURE(check_family(fn, t, rows, cols, n_act, 4321, c));
      for (int k = 0; k < n_act; ++k) {  // one row, one activation: the generation path
        for (int64_t r = 0; r < rows; ++r) {
          float single = -1.0f;
          ASSERT_TRUE(fn(t, cols, c.m.row(r), c.m.row_stride, 1, c.act.data() + k * c.ab, c.ab, 1, &single, 1));
          ASSERT_EQ(std::memcmp(&single, &c.batched[k * rows + r], 4), 0) << "activation " << k << " row " << r;
        }
      }
      for (int na : {2, 3, 5, 8}) {  // the small-batch kernels: the same bits as the full batch
        std::vector<float> part(static_cast<size_t>(rows * na));
        ASSERT_TRUE(fn(t, cols, c.m.data, c.m.row_stride, rows, c.act.data(), c.ab, na, part.data(), rows));
        ASSERT_EQ(std::memcmp(part.data(), c.batched.data(), part.size() * 4), 0) << na << " activations";
      }
    }
  }
  std::cout << "[ families ] checked:" << (ran.empty() ? " none (no SIMD family runs here)" : ran)
            << "; compiled but not runnable on this CPU:" << (lacking.empty() ? " none" : lacking) << "\n";
  if (simd::active_isa() != simd::Isa::scalar) {
    EXPECT_NE(ran.find(simd::isa_name(simd::active_isa())), std::string::npos);
  }
}

TEST(Matmul, MatrixRowAndErrors) {
  const auto wb = random_weights(DType::Q4_0, 4, 64, 3);
  const auto m = make_matrix(DType::Q4_0, 4, 64, wb);
  std::vector<float> a(64), b(64);
  lmgen::matrix_row_f32(m, 2, a.data());
  lmgen::dequantize_row(DType::Q4_0, wb.data() + 2 * 36, b.data(), 64);
  EXPECT_EQ(a, b);
  EXPECT_ANY_THROW(lmgen::matrix_row_f32(m, 4, a.data()));
  auto bad = m;
  bad.cols = 48;  // not whole blocks
  lmgen::ThreadPool pool(1);
  std::vector<float> y(8);
  EXPECT_ANY_THROW(lmgen::matmul(bad, a.data(), 1, y.data(), pool));
}

}  // namespace

// Rows longer than the kernels' on-stack activation buffers (the AVX-512 VNNI low-bit kernels rearrange the
// activation bytes once per call: up to 8192 bytes on the stack, more on the heap): every family against the
// scalar reference, and one activation at a time bit-identical to the batch, on both sides of that size.
TEST(KernelFamilies, LowBitLongRowsMatchScalar) {
  namespace simd = lmgen::simd;
  for (simd::Isa isa : simd::kAllIsas) {
    const simd::RowsFn fn = simd::rows_kernel(isa);
    if (!fn || !simd::isa_supported(isa)) continue;
    SCOPED_TRACE(simd::isa_name(isa));
    for (DType t : {DType::Q2_K, DType::Q3_K, DType::IQ4_XS, DType::IQ3_S}) {
      for (int64_t cols : {int64_t{8192}, int64_t{8448}}) {
        SCOPED_TRACE(std::string(lmgen::dtype_name(t)) + " cols " + std::to_string(cols));
        FamilyCase c;
        ASSERT_NO_FATAL_FAILURE(check_family(fn, t, 7, cols, 3, 99, c));
      }
    }
  }
}
