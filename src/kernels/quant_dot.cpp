// Activation encoding and the portable (scalar) dot-product kernels; the calls into the SIMD kernel family chosen
// at run time (dispatch.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "lmgen/error.hpp"
#include "kernels/iq_tables.hpp"
#include "kernels/quant.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/dispatch.hpp"

namespace lmgen {

using namespace qblk;

DType vec_dot_type(DType t) {
  switch (t) {
    case DType::Q4_0:
    case DType::Q5_0:
    case DType::Q8_0: return DType::Q8_0;
    case DType::IQ4_NL: return DType::Q8_0;
    case DType::Q4_1:
    case DType::Q5_1: return DType::Q8_1;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
    case DType::IQ4_XS:
    case DType::IQ3_S: return DType::Q8_K;
    default: return DType::F32;
  }
}

namespace {

// ---- scalar reference kernels ----

float dot_f32(int64_t n, const float* w, const float* x) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += w[i] * x[i];
  return s;
}
float dot_f16(int64_t n, const uint16_t* w, const float* x) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += h2f(w[i]) * x[i];
  return s;
}
float dot_bf16(int64_t n, const uint16_t* w, const float* x) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += bf16_to_fp32(w[i]) * x[i];
  return s;
}

float dot_q4_0(int64_t nb, const BlockQ4_0* x, const BlockQ8_0* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j)
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK / 2];
    s += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return s;
}
float dot_q4_1(int64_t nb, const BlockQ4_1* x, const BlockQ8_1* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + QK / 2];
    s += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d)) + h2f(x[i].m) * h2f(y[i].s);
  }
  return s;
}
// Q5_0 (Min = false, quants - 16) and Q5_1 (Min = true, + m * s).
template <bool Min, typename B, typename A>
float dot_q5(int64_t nb, const B* x, const A* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    const int off = Min ? 0 : 16;
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      sumi += (((x[i].qs[j] & 0xF) | h0) - off) * y[i].qs[j] + (((x[i].qs[j] >> 4) | h1) - off) * y[i].qs[j + QK / 2];
    }
    if constexpr (Min)
      s += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d)) + h2f(x[i].m) * h2f(y[i].s);
    else
      s += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return s;
}
float dot_q8_0(int64_t nb, const BlockQ8_0* x, const BlockQ8_0* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    s += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return s;
}

// Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scale and min; the min term uses the activation's bsums.
template <bool Five, typename B>
float dot_q45_k(int64_t nb, const B* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      scale_min_k4(j, x[i].scales, sc, m);
      summ += m * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
      const uint8_t* q = x[i].qs + 32 * (j / 2);
      const int shift = (j & 1) * 4;
      int sub = 0;
      for (int l = 0; l < 32; ++l) {
        int v = (q[l] >> shift) & 0xF;
        if constexpr (Five) {
          if (reinterpret_cast<const BlockQ5_K*>(&x[i])->qh[l] & (1u << j)) v += 16;
        }
        sub += v * y[i].qs[32 * j + l];
      }
      sumi += sc * sub;
    }
    const float d = y[i].d * h2f(x[i].d), dmin = y[i].d * h2f(x[i].dmin);
    s += d * static_cast<float>(sumi) - dmin * static_cast<float>(summ);
  }
  return s;
}

float dot_q6_k(int64_t nb, const BlockQ6_K* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int e16 = 0; e16 < 16; ++e16) {
      int sub = 0;
      for (int k = 0; k < 16; ++k) {
        const int e = 16 * e16 + k;
        const int n = e / 128, ep = e % 128, quad = ep / 32, l = ep % 32;
        const uint8_t lq = x[i].ql[64 * n + l + (quad & 1) * 32];
        const int lo = quad >= 2 ? (lq >> 4) : (lq & 0xF);
        const int hi = (x[i].qh[32 * n + l] >> (2 * quad)) & 3;
        sub += ((lo | (hi << 4)) - 32) * y[i].qs[e];
      }
      sumi += x[i].scales[e16] * sub;
    }
    s += y[i].d * h2f(x[i].d) * static_cast<float>(sumi);
  }
  return s;
}

// Q2_K: 16 sub-blocks of 16, 2-bit quants, 4-bit scale (low nibble) and min (high nibble); element e = 128 n + 32 j + l
// is bits 2j of qs[32 n + l], and its sub-block e / 16 is the bsums group of the activation.
float dot_q2_k(int64_t nb, const BlockQ2_K* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sub[16] = {}, sumi = 0, summ = 0;
    for (int e = 0; e < QK_K; ++e)
      sub[e / 16] += ((x[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3) * y[i].qs[e];
    for (int j = 0; j < 16; ++j) {
      sumi += (x[i].scales[j] & 0xF) * sub[j];
      summ += (x[i].scales[j] >> 4) * y[i].bsums[j];
    }
    s += y[i].d * h2f(x[i].d) * static_cast<float>(sumi) - y[i].d * h2f(x[i].dmin) * static_cast<float>(summ);
  }
  return s;
}

// Q3_K: as Q2_K's layout, plus a high bit (hmask[l] bit 4 n + j; clear means -4) and signed 6-bit scales - 32.
float dot_q3_k(int64_t nb, const BlockQ3_K* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int8_t sc[16];
    unpack_scales_q3_k(x[i].scales, sc);
    int sub[16] = {}, sumi = 0;
    for (int e = 0; e < QK_K; ++e) {
      const int n = e / 128, j = (e % 128) / 32, l = e % 32;
      const int q = ((x[i].qs[32 * n + l] >> (2 * j)) & 3) - ((x[i].hmask[l] >> (4 * n + j)) & 1 ? 0 : 4);
      sub[e / 16] += q * y[i].qs[e];
    }
    for (int j = 0; j < 16; ++j) sumi += (sc[j] - 32) * sub[j];
    s += h2f(x[i].d) * y[i].d * static_cast<float>(sumi);
  }
  return s;
}

// Sum of kIq4nlValues[nibbles] x 32 activation bytes (16 bytes of nibbles: low nibbles first, then high ones).
int iq4_sum(const uint8_t* qs, const int8_t* q8) {
  int sumi = 0;
  for (int j = 0; j < 16; ++j) sumi += kIq4nlValues[qs[j] & 0xF] * q8[j] + kIq4nlValues[qs[j] >> 4] * q8[j + 16];
  return sumi;
}
float dot_iq4_nl(int64_t nb, const BlockIQ4_NL* x, const BlockQ8_0* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) s += static_cast<float>(iq4_sum(x[i].qs, y[i].qs)) * (h2f(x[i].d) * h2f(y[i].d));
  return s;
}
float dot_iq4_xs(int64_t nb, const BlockIQ4_XS* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < 8; ++j) sumi += (iq4xs_scale(x[i], j) - 32) * iq4_sum(x[i].qs + 16 * j, y[i].qs + 32 * j);
    s += h2f(x[i].d) * y[i].d * static_cast<float>(sumi);
  }
  return s;
}

// IQ3_S: per sub-block of 32, the signed grid values times the activations, times 1 + 2 * its 4-bit scale.
float dot_iq3_s(int64_t nb, const BlockIQ3_S* x, const BlockQ8_K* y) {
  float s = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < 8; ++j) {
      int sub = 0;
      for (int e = 0; e < 32; ++e) {
        const int k = e / 4;
        const uint32_t g = kIq3sGrid[x[i].qs[8 * j + k] | (((x[i].qh[j] >> k) & 1) << 8)];
        const int v = static_cast<int>((g >> (8 * (e % 4))) & 0xFF);
        sub += ((x[i].signs[4 * j + e / 8] >> (e % 8)) & 1 ? -v : v) * y[i].qs[32 * j + e];
      }
      sumi += (1 + 2 * ((x[i].scales[j / 2] >> (4 * (j % 2))) & 0xF)) * sub;
    }
    s += h2f(x[i].d) * y[i].d * static_cast<float>(sumi);
  }
  return s;
}

// Types without an integer kernel (Q8_K, Q8_1): decode a super-block at a time, F32 dot.
float dot_decoded(DType t, int64_t n, const void* w, const float* x) {
  const int64_t bs = dtype_traits(t).block_size, ts = dtype_traits(t).type_size;
  const int64_t chunk = 256;  // a multiple of every block size
  float buf[256];
  float s = 0;
  const auto* p = static_cast<const uint8_t*>(w);
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t m = std::min(chunk, n - i);
    dequantize_row(t, p + i / bs * ts, buf, m);
    for (int64_t k = 0; k < m; ++k) s += buf[k] * x[i + k];
  }
  return s;
}

}  // namespace

void quantize_activation_row(DType act_type, const float* x, void* dst, int64_t n) {
  switch (act_type) {
    case DType::F32: std::memcpy(dst, x, static_cast<size_t>(n) * 4); return;
    case DType::Q8_0:
    case DType::Q8_1:
    case DType::Q8_K:
      if (n % dtype_traits(act_type).block_size) break;
      simd::active_act_quantizer()(act_type, x, dst, n);
      return;
    default:
      throw Error(std::string("quantize_activation_row: ") + dtype_name(act_type) + " is not an activation type");
  }
  throw Error("quantize_activation_row: " + std::to_string(n) + " elements are not whole " + dtype_name(act_type) +
              " blocks");
}

// Not inlined: one compiled copy, so the compiler's fused multiply-add choices are the same for every caller.
__attribute__((noinline)) float vec_dot_scalar(DType t, int64_t n, const void* w, const void* act) {
  const int64_t nb32 = n / QK, nbk = n / QK_K;
  switch (t) {
    case DType::F32: return dot_f32(n, static_cast<const float*>(w), static_cast<const float*>(act));
    case DType::F16: return dot_f16(n, static_cast<const uint16_t*>(w), static_cast<const float*>(act));
    case DType::BF16: return dot_bf16(n, static_cast<const uint16_t*>(w), static_cast<const float*>(act));
    case DType::Q4_0:
      return dot_q4_0(nb32, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(act));
    case DType::Q4_1:
      return dot_q4_1(nb32, static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_1*>(act));
    case DType::Q5_0:
      return dot_q5<false>(nb32, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(act));
    case DType::Q5_1:
      return dot_q5<true>(nb32, static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_1*>(act));
    case DType::Q8_0:
      return dot_q8_0(nb32, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(act));
    case DType::Q4_K:
      return dot_q45_k<false>(nbk, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::Q5_K:
      return dot_q45_k<true>(nbk, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::Q6_K:
      return dot_q6_k(nbk, static_cast<const BlockQ6_K*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::Q2_K:
      return dot_q2_k(nbk, static_cast<const BlockQ2_K*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::Q3_K:
      return dot_q3_k(nbk, static_cast<const BlockQ3_K*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::IQ4_NL:
      return dot_iq4_nl(nb32, static_cast<const BlockIQ4_NL*>(w), static_cast<const BlockQ8_0*>(act));
    case DType::IQ4_XS:
      return dot_iq4_xs(nbk, static_cast<const BlockIQ4_XS*>(w), static_cast<const BlockQ8_K*>(act));
    case DType::IQ3_S:
      return dot_iq3_s(nbk, static_cast<const BlockIQ3_S*>(w), static_cast<const BlockQ8_K*>(act));
    default: return dot_decoded(t, n, w, static_cast<const float*>(act));
  }
}

namespace {
// The active family's entry point (dispatch.hpp), looked up once.
simd::RowsFn active_rows() {
  static const simd::RowsFn fn = simd::rows_kernel(simd::active_isa());
  return fn;
}
}  // namespace

float vec_dot(DType t, int64_t n, const void* w, const void* act) {
  float r;
  if (const simd::RowsFn fn = active_rows(); fn && fn(t, n, w, 0, 1, act, 0, 1, &r, 1)) return r;
  return vec_dot_scalar(t, n, w, act);
}

void vec_dot_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                  size_t act_stride, int n_act, float* y, size_t y_stride) {
  if (const simd::RowsFn fn = active_rows(); fn && fn(t, n, w, w_stride, n_rows, act, act_stride, n_act, y, y_stride))
    return;
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  for (int64_t r = 0; r < n_rows; ++r)
    for (int k = 0; k < n_act; ++k) y[k * y_stride + r] = vec_dot_scalar(t, n, wp + r * w_stride, ap + k * act_stride);
}

const char* vec_dot_isa() { return simd::isa_name(simd::active_isa()); }

std::string vec_dot_kernel(DType t) {
  float y;
  const simd::RowsFn fn = active_rows();
  // A call with no rows does no work and says whether the family has a kernel for t.
  const bool simd = fn && fn(t, 0, nullptr, 0, 0, nullptr, 0, 1, &y, 1);
  return std::string(simd ? vec_dot_isa() : "scalar") + " x " + dtype_name(vec_dot_type(t));
}

}  // namespace lmgen
