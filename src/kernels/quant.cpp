// Scalar decoding of every supported row type (the i-quants' in quant_iq.cpp), and reference encoders for the simple
// block types.
// Arithmetic follows ggml's reference code operation by operation (products then sums, no fused multiply-add), so
// decoded values are bit-identical to ggml's to_float.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "lmgen/error.hpp"
#include "kernels/quant.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/quant_blocks.hpp"

namespace lmgen {

using namespace qblk;

namespace {

void check_n(DType t, int64_t n, const char* what) {
  const int64_t bs = dtype_traits(t).block_size;
  if (n < 0 || n % bs != 0)
    throw Error(std::string(what) + ": " + std::to_string(n) + " elements are not a whole number of " +
                dtype_name(t) + " blocks of " + std::to_string(bs));
}

void deq_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0xF) - 8) * d;
      y[j + QK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void deq_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
    for (int j = 0; j < QK / 2; ++j) {
      const float p0 = static_cast<float>(x[i].qs[j] & 0xF) * d;
      const float p1 = static_cast<float>(x[i].qs[j] >> 4) * d;
      y[j] = p0 + m;
      y[j + QK / 2] = p1 + m;
    }
  }
}

void deq_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < QK / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = static_cast<float>(((x[i].qs[j] & 0xF) | h0) - 16) * d;
      y[j + QK / 2] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void deq_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < QK / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      const float p0 = static_cast<float>((x[i].qs[j] & 0xF) | h0) * d;
      const float p1 = static_cast<float>((x[i].qs[j] >> 4) | h1) * d;
      y[j] = p0 + m;
      y[j + QK / 2] = p1 + m;
    }
  }
}

void deq_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void deq_q8_1(const BlockQ8_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void deq_q2_k(const BlockQ2_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), mn = h2f(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * static_cast<float>(sc & 0xF), ml = mn * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) {
            const float p = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3);
            *y++ = p - ml;
          }
        }
        shift += 2;
      }
      q += 32;
    }
  }
}

void deq_q3_k(const BlockQ3_K* x, float* y, int64_t nb) {
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d_all = h2f(x[i].d);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    uint32_t aux[4];
    std::memcpy(aux, x[i].scales, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t scales[16];
    std::memcpy(scales, aux, 16);
    int is = 0;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(scales[is++] - 32);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
        shift += 2;
        m = static_cast<uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

void deq_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), mn = h2f(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0; j < QK_K / 64; ++j) {
      uint8_t sc, m;
      scale_min_k4(2 * j, x[i].scales, sc, m);
      const float d1 = d * sc, m1 = mn * m;
      scale_min_k4(2 * j + 1, x[i].scales, sc, m);
      const float d2 = d * sc, m2 = mn * m;
      for (int l = 0; l < 32; ++l) {
        const float p = d1 * static_cast<float>(q[l] & 0xF);
        *y++ = p - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const float p = d2 * static_cast<float>(q[l] >> 4);
        *y++ = p - m2;
      }
      q += 32;
    }
  }
}

void deq_q5_k(const BlockQ5_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), mn = h2f(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K / 64; ++j) {
      uint8_t sc, m;
      scale_min_k4(2 * j, x[i].scales, sc, m);
      const float d1 = d * sc, m1 = mn * m;
      scale_min_k4(2 * j + 1, x[i].scales, sc, m);
      const float d2 = d * sc, m2 = mn * m;
      for (int l = 0; l < 32; ++l) {
        const float p = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0));
        *y++ = p - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const float p = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0));
        *y++ = p - m2;
      }
      ql += 32;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void deq_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < QK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void deq_q8_k(const BlockQ8_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K)
    for (int j = 0; j < QK_K; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
}

// ---- reference encoders (as ggml's quantize_row_*_ref) ----

void min_max(const float* x, int n, float& mn, float& mx) {
  mn = x[0];
  mx = x[0];
  for (int j = 1; j < n; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
  }
}

// Packs 32 quants: low 4 bits as nibbles (element j low, j+16 high), 5th bits into qh (bit j of a LE u32).
void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < QK / 2; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + QK / 2] & 0xF) << 4));
}
void pack_high_bits(const uint8_t* q, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < QK; ++j) qh |= static_cast<uint32_t>((q[j] & 0x10) >> 4) << j;
  std::memcpy(qh_bytes, &qh, 4);
}

// Symmetric encoders (Q4_0: levels -8..7, Q5_0: -16..15), d = max / -levels: q = min(top, (int8)(x/d + offset)).
void encode_symmetric(const float* x, uint16_t& dh, uint8_t* q, float levels) {
  const float d = signed_absmax(x, QK) / -levels;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  dh = f2h(d);
  const int top = static_cast<int>(2 * levels - 1);
  for (int j = 0; j < QK; ++j)
    q[j] = static_cast<uint8_t>(std::min(top, static_cast<int>(static_cast<int8_t>(x[j] * id + (levels + 0.5f)))));
}
// Affine encoders (Q4_1: 0..15, Q5_1: 0..31): x = d*q + min.
void encode_affine(const float* x, uint16_t& dh, uint16_t& mh, uint8_t* q, int top) {
  float mn, mx;
  min_max(x, QK, mn, mx);
  const float d = (mx - mn) / static_cast<float>(top);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  dh = f2h(d);
  mh = f2h(mn);
  for (int j = 0; j < QK; ++j)
    q[j] = static_cast<uint8_t>(std::min(top, static_cast<int>(static_cast<int8_t>((x[j] - mn) * id + 0.5f))));
}

void q_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  uint8_t q[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    encode_symmetric(x, y[i].d, q, 8);
    pack_nibbles(q, y[i].qs);
  }
}
void q_q4_1(const float* x, BlockQ4_1* y, int64_t nb) {
  uint8_t q[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    encode_affine(x, y[i].d, y[i].m, q, 15);
    pack_nibbles(q, y[i].qs);
  }
}
void q_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  uint8_t q[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    encode_symmetric(x, y[i].d, q, 16);
    pack_nibbles(q, y[i].qs);
    pack_high_bits(q, y[i].qh);
  }
}
void q_q5_1(const float* x, BlockQ5_1* y, int64_t nb) {
  uint8_t q[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    encode_affine(x, y[i].d, y[i].m, q, 31);
    pack_nibbles(q, y[i].qs);
    pack_high_bits(q, y[i].qh);
  }
}

void q_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    float amax = 0;
    for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    for (int j = 0; j < QK; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

}  // namespace

void quantize_row_q8_k(const float* x, void* dst, int64_t n) {
  simd::scalar::quantize_activations(DType::Q8_K, x, dst, n);  // one encoder for files and run time (act_quant.cpp)
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  check_n(t, n, "dequantize_row");
  const int64_t nb = n / dtype_traits(t).block_size;
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = h2f(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
      return;
    }
    case DType::Q4_0: deq_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb); return;
    case DType::Q4_1: deq_q4_1(static_cast<const BlockQ4_1*>(src), dst, nb); return;
    case DType::Q5_0: deq_q5_0(static_cast<const BlockQ5_0*>(src), dst, nb); return;
    case DType::Q5_1: deq_q5_1(static_cast<const BlockQ5_1*>(src), dst, nb); return;
    case DType::Q8_0: deq_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb); return;
    case DType::Q8_1: deq_q8_1(static_cast<const BlockQ8_1*>(src), dst, nb); return;
    case DType::Q2_K: deq_q2_k(static_cast<const BlockQ2_K*>(src), dst, nb); return;
    case DType::Q3_K: deq_q3_k(static_cast<const BlockQ3_K*>(src), dst, nb); return;
    case DType::Q4_K: deq_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb); return;
    case DType::Q5_K: deq_q5_k(static_cast<const BlockQ5_K*>(src), dst, nb); return;
    case DType::Q6_K: deq_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb); return;
    case DType::Q8_K: deq_q8_k(static_cast<const BlockQ8_K*>(src), dst, nb); return;
    case DType::IQ4_NL: dequantize_row_iq4_nl(src, dst, n); return;
    case DType::IQ4_XS: dequantize_row_iq4_xs(src, dst, n); return;
    case DType::IQ3_S: dequantize_row_iq3_s(src, dst, n); return;
  }
  throw Error(std::string("dequantize_row: unsupported type ") + dtype_name(t));
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  check_n(t, n, "quantize_row");
  const int64_t nb = n / dtype_traits(t).block_size;
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
      return;
    }
    case DType::Q4_0: q_q4_0(src, static_cast<BlockQ4_0*>(dst), nb); return;
    case DType::Q4_1: q_q4_1(src, static_cast<BlockQ4_1*>(dst), nb); return;
    case DType::Q5_0: q_q5_0(src, static_cast<BlockQ5_0*>(dst), nb); return;
    case DType::Q5_1: q_q5_1(src, static_cast<BlockQ5_1*>(dst), nb); return;
    case DType::Q8_0: q_q8_0(src, static_cast<BlockQ8_0*>(dst), nb); return;
    case DType::Q8_1: quantize_activation_row(DType::Q8_1, src, dst, n); return;
    case DType::Q8_K: quantize_row_q8_k(src, dst, n); return;
    case DType::Q2_K: quantize_row_q2_k(src, dst, n); return;
    case DType::Q3_K: quantize_row_q3_k(src, dst, n); return;
    case DType::Q4_K: quantize_row_q4_k(src, dst, n); return;
    case DType::Q5_K: quantize_row_q5_k(src, dst, n); return;
    case DType::Q6_K: quantize_row_q6_k(src, dst, n); return;
    case DType::IQ4_NL: quantize_row_iq4_nl(src, dst, n); return;
    case DType::IQ4_XS: quantize_row_iq4_xs(src, dst, n); return;
    default: break;
  }
  throw Error(std::string("quantize_row: cannot encode type ") + dtype_name(t));
}

}  // namespace lmgen
