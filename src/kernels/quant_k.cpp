// Reference encoders for the K-quant types Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, following the algorithm of ggml's reference
// quantizers (no importance matrix): per sub-block, a weighted least-squares search over a few candidate scales
// (affine x = d*q - m for Q2_K/Q4_K/Q5_K, symmetric x = d*q for Q3_K/Q6_K); then the sub-block scales themselves are
// quantized to 4 bits (Q2_K), 6 bits (Q3_K/Q4_K/Q5_K) or 8 bits (Q6_K) against a fp16 super-scale, and the quants
// are recomputed against the rounded scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "lmgen/error.hpp"
#include "kernels/quant_blocks.hpp"

namespace lmgen {

using namespace qblk;

namespace {

constexpr float kGroupEps = 1e-15f;

// Affine fit of n values to levels 0..nmax with weights w: returns the scale, sets *neg_min (= -min >= 0) and the
// levels L. Tries iscale = (nmax + rmin + rdelta*k) / (max - min) for k = 0..nstep and keeps the best weighted
// squared error of the least-squares (scale, min) for each candidate level assignment.
float fit_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                 float rdelta, int nstep) {
  float mn = x[0], mx = x[0], sum_w = w[0], sum_x = w[0] * x[0];
  for (int i = 1; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (mn > 0) mn = 0;
  if (mx == mn) {
    std::fill(L, L + n, 0);
    *neg_min = -mn;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (mx - mn);
  float scale = 1 / iscale;
  float best = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(std::clamp(nearest_int(iscale * (x[i] - mn)), 0, nmax));
    const float diff = scale * L[i] + mn - x[i];
    best += w[i] * diff * diff;
  }
  uint8_t cand[QK_K];
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * static_cast<float>(k) + static_cast<float>(nmax)) / (mx - mn);
    float sl = 0, sl2 = 0, sxl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - mn)), 0, nmax);
      cand[i] = static_cast<uint8_t>(l);
      sl += w[i] * static_cast<float>(l);
      sl2 += w[i] * static_cast<float>(l * l);
      sxl += w[i] * static_cast<float>(l) * x[i];
    }
    const float D = sum_w * sl2 - sl * sl;
    if (D <= 0) continue;
    float s = (sum_w * sxl - sum_x * sl) / D;
    float m = (sl2 * sum_x - sl * sxl) / D;
    if (m > 0) {
      m = 0;
      s = sxl / sl2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = s * cand[i] + m - x[i];
      err += w[i] * diff * diff;
    }
    if (err < best) {
      std::memcpy(L, cand, static_cast<size_t>(n));
      best = err;
      scale = s;
      mn = m;
    }
  }
  *neg_min = -mn;
  return scale;
}

// Symmetric fit of n values to levels -nmax..nmax-1 (stored + nmax in L), weights x^2; returns the scale.
float fit_symmetric(int n, int nmax, const float* x, uint8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax < kGroupEps) {
    std::fill(L, L + n, static_cast<uint8_t>(0));
    return 0.0f;
  }
  auto level = [&](float is, int i) { return std::clamp(nearest_int(is * x[i]), -nmax, nmax - 1); };
  float iscale = -static_cast<float>(nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale, i);
    L[i] = static_cast<uint8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l * l);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale, i);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l * l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(level(iscale, i) + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q4_K / Q5_K: levels L[256] (0..nmax), the packed 6-bit scales and mins, and the two fp16 super-scales.
void encode_k_affine(const float* x, int nmax, float rmin, int nstep, uint8_t* L, uint8_t* packed, uint16_t& dh,
                     uint16_t& dminh) {
  float scales[8], mins[8], w[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_affine(32, nmax, xs, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed, 0, 12);
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls = static_cast<uint8_t>(std::min(63, nearest_int(inv_scale * scales[j])));
    const uint8_t lm = static_cast<uint8_t>(std::min(63, nearest_int(inv_min * mins[j])));
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {  // low 4 bits in bytes 8..11, high 2 bits on top of bytes j-4 (scale) and j (min)
      packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  dh = f2h(max_scale / 63.f);
  dminh = f2h(max_min / 63.f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, packed, sc, m);
    const float d = h2f(dh) * sc;
    if (d == 0) continue;  // keep the fitted levels (they do not matter when the scale is 0)
    const float dm = h2f(dminh) * m;
    for (int l = 0; l < 32; ++l) L[32 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + l] + dm) / d), 0, nmax));
  }
}

void check_k(int64_t n, const char* name) {
  if (n % QK_K != 0)
    throw Error(std::string("quantize_row: ") + std::to_string(n) + " elements are not whole " + name +
                " super-blocks of 256");
}

// Packs 256 2-bit levels as Q2_K / Q3_K store them: element 128 n + 32 j + l in bits 2j of qs[32 n + l].
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int n = 0; n < 2; ++n)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* Ln = L + 128 * n + l;
      qs[32 * n + l] = static_cast<uint8_t>((Ln[0] & 3) | ((Ln[32] & 3) << 2) | ((Ln[64] & 3) << 4) | ((Ln[96] & 3) << 6));
    }
}

}  // namespace

void quantize_row_q4_k(const float* x, void* dst, int64_t n) {
  check_k(n, "q4_k");
  auto* y = static_cast<BlockQ4_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    encode_k_affine(x, 15, -1.0f, 20, L, y[i].scales, y[i].d, y[i].dmin);
    for (int k = 0; k < 4; ++k)  // chunk k: sub-block 2k in the low nibbles, 2k+1 in the high nibbles
      for (int l = 0; l < 32; ++l) y[i].qs[32 * k + l] = static_cast<uint8_t>(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
  }
}

void quantize_row_q5_k(const float* x, void* dst, int64_t n) {
  check_k(n, "q5_k");
  auto* y = static_cast<BlockQ5_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    encode_k_affine(x, 31, -0.5f, 15, L, y[i].scales, y[i].d, y[i].dmin);
    std::memset(y[i].qh, 0, sizeof y[i].qh);
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int a = L[64 * k + l], b = L[64 * k + 32 + l];
        y[i].qs[32 * k + l] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
        y[i].qh[l] |= static_cast<uint8_t>(((a >> 4) << (2 * k)) | ((b >> 4) << (2 * k + 1)));
      }
  }
}

void quantize_row_q6_k(const float* x, void* dst, int64_t n) {
  check_k(n, "q6_k");
  auto* y = static_cast<BlockQ6_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    float scales[16];
    float max_scale = 0, max_abs = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > max_abs) {
        max_abs = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_abs < kGroupEps) {
      std::memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = f2h(1 / iscale);
    for (int j = 0; j < 16; ++j) y[i].scales[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[j])));
    for (int j = 0; j < 16; ++j) {
      const float d = h2f(y[i].d) * y[i].scales[j];
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int(x[16 * j + l] / d), -32, 31) + 32);
    }
    for (int h = 0; h < 2; ++h) {  // halves of 128: quarters q0..q3 of 32 elements
      const uint8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[i].ql[64 * h + l] = static_cast<uint8_t>((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
        y[i].ql[64 * h + 32 + l] = static_cast<uint8_t>((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
        y[i].qh[32 * h + l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                                   ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

void quantize_row_q2_k(const float* x, void* dst, int64_t n) {
  check_k(n, "q2_k");
  auto* y = static_cast<BlockQ2_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    float scales[16], mins[16], w[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {  // sub-blocks of 16, levels 0..3, weights |x|
      for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
      scales[j] = fit_affine(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0 ? 15.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 15.f / max_min : 0.f;
    for (int j = 0; j < 16; ++j)
      y[i].scales[j] = static_cast<uint8_t>(std::min(15, nearest_int(inv_scale * scales[j])) |
                                            (std::min(15, nearest_int(inv_min * mins[j])) << 4));
    y[i].d = f2h(max_scale / 15.f);
    y[i].dmin = f2h(max_min / 15.f);
    for (int j = 0; j < 16; ++j) {
      const float d = h2f(y[i].d) * static_cast<float>(y[i].scales[j] & 0xF);
      if (d == 0) continue;
      const float dm = h2f(y[i].dmin) * static_cast<float>(y[i].scales[j] >> 4);
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + l] + dm) / d), 0, 3));
    }
    pack_2bit(L, y[i].qs);
  }
}

void quantize_row_q3_k(const float* x, void* dst, int64_t n) {
  check_k(n, "q3_k");
  auto* y = static_cast<BlockQ3_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    float scales[16];
    float max_scale = 0, max_abs = 0;
    for (int j = 0; j < 16; ++j) {  // sub-blocks of 16, levels -4..3 (stored + 4)
      scales[j] = fit_symmetric(16, 4, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > max_abs) {
        max_abs = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(&y[i], 0, sizeof y[i]);
    if (max_abs < kGroupEps) continue;
    const float iscale = -32.f / max_scale;
    for (int j = 0; j < 16; ++j) {  // 6-bit scales + 32: low nibbles in bytes 0..7, high 2 bits in bytes 8..11
      const int l = std::clamp(nearest_int(iscale * scales[j]), -32, 31) + 32;
      y[i].scales[j % 8] |= static_cast<uint8_t>((l & 0xF) << (4 * (j / 8)));
      y[i].scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
    }
    y[i].d = f2h(1 / iscale);
    int8_t sc[16];
    unpack_scales_q3_k(y[i].scales, sc);
    for (int j = 0; j < 16; ++j) {
      const float d = h2f(y[i].d) * static_cast<float>(sc[j] - 32);
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int(x[16 * j + l] / d), -4, 3) + 4);
    }
    for (int e = 0; e < QK_K; ++e)  // the third bit: hmask[e % 32] bit e / 32
      if (L[e] > 3) y[i].hmask[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
    pack_2bit(L, y[i].qs);
  }
}

}  // namespace lmgen
