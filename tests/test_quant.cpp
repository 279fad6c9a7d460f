// Row decoding against llama.cpp's values (dequant-check.json), hand-built blocks, encoder round trips and the
// activation encoders.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <vector>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "kernels/quant.hpp"
#include "lmgen/tensor.hpp"

namespace {

using lmgen::DType;

std::vector<uint8_t> read_range(const std::string& path, uint64_t offset, uint64_t n) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  std::vector<uint8_t> b(n);
  f.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  EXPECT_EQ(static_cast<uint64_t>(f.gcount()), n) << path;
  return b;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// Every tensor listed in one of the fixtures' dequant-check files decodes to llama.cpp's values; returns the types seen.
std::set<std::string> check_dequant_file(const std::string& json_name, int min_tensors) {
  const std::string dir = lmgen::test::shared_path("fixtures/tiny-llama-kq");
  std::ifstream jf(dir + "/" + json_name);
  EXPECT_TRUE(jf.good()) << json_name;
  const nlohmann::json j = nlohmann::json::parse(jf);
  int checked = 0;
  std::set<std::string> types;
  for (const auto& [file, info] : j.at("files").items()) {
    for (const auto& t : info.at("tensors")) {
      const std::string name = t.at("name");
      SCOPED_TRACE(file + ":" + name);
      const auto type = static_cast<DType>(t.at("ggml_type_id").get<uint32_t>());
      EXPECT_TRUE(lmgen::dtype_from_name(t.at("type").get<std::string>()) == type);
      const auto shape = t.at("shape").get<std::vector<int64_t>>();
      EXPECT_EQ(shape.size(), 2u);
      const int64_t rows = shape[0], cols = shape[1];
      const size_t rb = lmgen::row_bytes(type, cols);
      EXPECT_EQ(rb * static_cast<size_t>(rows), t.at("n_bytes").get<size_t>());
      const auto bytes = read_range(dir + "/" + file, t.at("data_offset").get<uint64_t>(), rb * rows);
      std::vector<float> row(static_cast<size_t>(cols));
      double sum = 0, sumsq = 0;
      float mn = INFINITY, mx = -INFINITY;
      const auto first64 = t.at("first64").get<std::vector<double>>();
      int first_bad = -1;
      for (int64_t r = 0; r < rows; ++r) {
        lmgen::dequantize_row(type, bytes.data() + r * rb, row.data(), cols);
        for (int64_t c = 0; c < cols; ++c) {
          const int64_t idx = r * cols + c;
          if (idx < static_cast<int64_t>(first64.size()) && row[c] != static_cast<float>(first64[idx]) && first_bad < 0)
            first_bad = static_cast<int>(idx);
          sum += row[c];
          sumsq += static_cast<double>(row[c]) * row[c];
          mn = std::min(mn, row[c]);
          mx = std::max(mx, row[c]);
        }
      }
      EXPECT_EQ(first_bad, -1) << "first differing element of the first 64";
      const double esum = t.at("sum"), esq = t.at("sumsq");
      EXPECT_NEAR(sum, esum, 1e-9 * std::max(1.0, esq));
      EXPECT_NEAR(sumsq, esq, 1e-9 * esq);
      EXPECT_EQ(mn, static_cast<float>(t.at("min").get<double>()));
      EXPECT_EQ(mx, static_cast<float>(t.at("max").get<double>()));
      types.insert(t.at("type").get<std::string>());
      ++checked;
    }
  }
  EXPECT_GE(checked, min_tensors) << json_name;
  return types;
}

TEST(QuantDequant, MatchesLlamaCppDequantCheck) {
  const auto types = check_dequant_file("dequant-check.json", 10);
  EXPECT_TRUE(types.count("Q4_K") && types.count("Q5_K") && types.count("Q6_K") && types.count("Q4_1"));
}

// The six later files: Q2_K, Q3_K and the i-quants IQ4_NL, IQ4_XS, IQ3_S.
TEST(QuantDequant, MatchesLlamaCppDequantCheckNewTypes) {
  const auto types = check_dequant_file("dequant-check-new-types.json", 15);
  for (const char* t : {"Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS", "IQ3_S"}) EXPECT_TRUE(types.count(t)) << t;
}

// Hand-built blocks with d = 1 (fp16 0x3C00), m = 0.5 (0x3800): decoded values are the raw quants.
TEST(QuantDequant, HandBuiltBlocks) {
  float out[32];
  {  // Q4_0: element j low nibble of qs[j], element j+16 high nibble; x = q - 8
    uint8_t b[18] = {0x00, 0x3C};
    for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    lmgen::dequantize_row(DType::Q4_0, b, out, 32);
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(out[j], j - 8);
      EXPECT_EQ(out[j + 16], 15 - j - 8);
    }
  }
  {  // Q4_1: x = q + m
    uint8_t b[20] = {0x00, 0x3C, 0x00, 0x38};
    for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    lmgen::dequantize_row(DType::Q4_1, b, out, 32);
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(out[j], j + 0.5f);
      EXPECT_EQ(out[j + 16], 15 - j + 0.5f);
    }
  }
  {  // Q5_0: qh bit j is the 5th bit of element j (little-endian u32); x = q - 16
    uint8_t b[22] = {0x00, 0x3C};
    const uint32_t qh = 0xA5A50F0Fu;
    std::memcpy(b + 2, &qh, 4);
    for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    lmgen::dequantize_row(DType::Q5_0, b, out, 32);
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(out[j], static_cast<int>(j | (((qh >> j) & 1) << 4)) - 16);
      EXPECT_EQ(out[j + 16], static_cast<int>((15 - j) | (((qh >> (j + 16)) & 1) << 4)) - 16);
    }
    uint8_t b1[24] = {0x00, 0x3C, 0x00, 0x38};
    std::memcpy(b1 + 4, &qh, 4);
    std::memcpy(b1 + 8, b + 6, 16);
    lmgen::dequantize_row(DType::Q5_1, b1, out, 32);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(out[j], static_cast<float>(j | (((qh >> j) & 1) << 4)) + 0.5f);
  }
  {  // Q8_0 with d = -2 (0xC000)
    uint8_t b[34] = {0x00, 0xC0};
    for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 7 - 100));
    lmgen::dequantize_row(DType::Q8_0, b, out, 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], -2.0f * (j * 7 - 100));
  }
}

TEST(QuantDequant, RejectsPartialBlocks) {
  std::vector<uint8_t> b(64);
  std::vector<float> f(64);
  EXPECT_THROW(lmgen::dequantize_row(DType::Q4_0, b.data(), f.data(), 20), lmgen::Error);
  EXPECT_THROW(lmgen::quantize_row(DType::Q8_0, f.data(), b.data(), 33), lmgen::Error);
}

struct RoundTrip {
  DType type;
  double max_rel_rms;  // RMS error / RMS value bound for N(0,1) data
};

class QuantRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(QuantRoundTrip, ErrorWithinBound) {
  const auto p = GetParam();
  const int64_t n = 4096;
  auto x = random_floats(n, 7);
  x[5] = 4.5f;  // an outlier inside a block
  std::vector<uint8_t> q(lmgen::row_bytes(p.type, n));
  lmgen::quantize_row(p.type, x.data(), q.data(), n);
  std::vector<float> y(n);
  lmgen::dequantize_row(p.type, q.data(), y.data(), n);
  double err = 0, ref = 0, maxerr = 0;
  for (int64_t i = 0; i < n; ++i) {
    err += (y[i] - x[i]) * (y[i] - x[i]);
    ref += x[i] * x[i];
    maxerr = std::max(maxerr, std::fabs(static_cast<double>(y[i]) - x[i]));
  }
  const double rel = std::sqrt(err / ref);
  EXPECT_LT(rel, p.max_rel_rms) << lmgen::dtype_name(p.type);
  EXPECT_GT(rel, 0.0) << "suspiciously exact";
  // Encoding a decoded row again must reproduce (nearly) the same values.
  std::vector<uint8_t> q2(q.size());
  lmgen::quantize_row(p.type, y.data(), q2.data(), n);
  std::vector<float> y2(n);
  lmgen::dequantize_row(p.type, q2.data(), y2.data(), n);
  double err2 = 0;
  for (int64_t i = 0; i < n; ++i) err2 += (y2[i] - y[i]) * (y2[i] - y[i]);
  EXPECT_LT(std::sqrt(err2 / ref), p.max_rel_rms / 4) << lmgen::dtype_name(p.type);
  // An all-zero row encodes to zeros.
  std::vector<float> z(n, 0.0f);
  lmgen::quantize_row(p.type, z.data(), q.data(), n);
  lmgen::dequantize_row(p.type, q.data(), y.data(), n);
  for (float v : y) ASSERT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(RoundTrip{DType::F16, 1e-3}, RoundTrip{DType::BF16, 5e-3},
                                           RoundTrip{DType::Q8_0, 0.01}, RoundTrip{DType::Q4_0, 0.15},
                                           RoundTrip{DType::Q4_1, 0.12}, RoundTrip{DType::Q5_0, 0.07},
                                           RoundTrip{DType::Q5_1, 0.06}, RoundTrip{DType::Q8_K, 0.01},
                                           RoundTrip{DType::Q4_K, 0.11}, RoundTrip{DType::Q5_K, 0.055},
                                           RoundTrip{DType::Q6_K, 0.03}, RoundTrip{DType::Q2_K, 0.40},
                                           RoundTrip{DType::Q3_K, 0.22}, RoundTrip{DType::IQ4_NL, 0.13},
                                           RoundTrip{DType::IQ4_XS, 0.13}),
                         [](const auto& info) { return std::string(lmgen::dtype_name(info.param.type)); });

TEST(QuantActivation, Q8EncodersKeepSumsAndScale) {
  const int64_t n = 512;
  auto x = random_floats(n, 11, 3.0f);
  // Q8_0: |q| <= 127, the block maximum maps to +-127, and d = amax/127 in fp16.
  std::vector<uint8_t> a0(lmgen::row_bytes(DType::Q8_0, n));
  lmgen::quantize_activation_row(DType::Q8_0, x.data(), a0.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint8_t* blk = a0.data() + b * 34;
    uint16_t dh;
    std::memcpy(&dh, blk, 2);
    float amax = 0;
    int qmax = 0;
    for (int j = 0; j < 32; ++j) {
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
      qmax = std::max(qmax, std::abs(static_cast<int>(static_cast<int8_t>(blk[2 + j]))));
    }
    EXPECT_EQ(dh, lmgen::fp32_to_fp16(amax / 127.f));
    EXPECT_EQ(qmax, 127);
  }
  // Q8_1: s = d * sum(q).
  std::vector<uint8_t> a1(lmgen::row_bytes(DType::Q8_1, n));
  lmgen::quantize_activation_row(DType::Q8_1, x.data(), a1.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint8_t* blk = a1.data() + b * 36;
    uint16_t dh, sh;
    std::memcpy(&dh, blk, 2);
    std::memcpy(&sh, blk + 2, 2);
    int sum = 0;
    float amax = 0;
    for (int j = 0; j < 32; ++j) {
      sum += static_cast<int8_t>(blk[4 + j]);
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
    }
    EXPECT_EQ(dh, lmgen::fp32_to_fp16(amax / 127.f));
    EXPECT_EQ(sh, lmgen::fp32_to_fp16(amax / 127.f * static_cast<float>(sum)));  // unrounded d times the sum
  }
  // Q8_K: bsums are the sums of 16 quants; decoded values within d/2 of the input.
  std::vector<uint8_t> ak(lmgen::row_bytes(DType::Q8_K, n));
  lmgen::quantize_activation_row(DType::Q8_K, x.data(), ak.data(), n);
  std::vector<float> y(n);
  lmgen::dequantize_row(DType::Q8_K, ak.data(), y.data(), n);
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* blk = ak.data() + b * 292;
    float d;
    std::memcpy(&d, blk, 4);
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int k = 0; k < 16; ++k) s += static_cast<int8_t>(blk[4 + 16 * g + k]);
      int16_t bs;
      std::memcpy(&bs, blk + 4 + 256 + 2 * g, 2);
      EXPECT_EQ(bs, s);
    }
    for (int j = 0; j < 256; ++j) EXPECT_LE(std::fabs(y[b * 256 + j] - x[b * 256 + j]), std::fabs(d) * 0.5001f);
  }
  EXPECT_EQ(lmgen::vec_dot_type(DType::Q4_0), DType::Q8_0);
  EXPECT_EQ(lmgen::vec_dot_type(DType::Q5_1), DType::Q8_1);
  EXPECT_EQ(lmgen::vec_dot_type(DType::Q6_K), DType::Q8_K);
  EXPECT_EQ(lmgen::vec_dot_type(DType::BF16), DType::F32);
}

}  // namespace
