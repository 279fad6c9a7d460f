#include "lmgen/tensor.hpp"

#include <cstring>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {
struct Entry {
  DType type;
  TypeTraits traits;
};
// Block layouts (bytes per block) as defined by ggml.
constexpr Entry kTypes[] = {
    {DType::F32, {"f32", 1, 4}},      {DType::F16, {"f16", 1, 2}},      {DType::BF16, {"bf16", 1, 2}},
    {DType::Q4_0, {"q4_0", 32, 18}},  {DType::Q4_1, {"q4_1", 32, 20}},  {DType::Q5_0, {"q5_0", 32, 22}},
    {DType::Q5_1, {"q5_1", 32, 24}},  {DType::Q8_0, {"q8_0", 32, 34}},  {DType::Q8_1, {"q8_1", 32, 36}},
    {DType::Q2_K, {"q2_k", 256, 84}}, {DType::Q3_K, {"q3_k", 256, 110}}, {DType::Q4_K, {"q4_k", 256, 144}},
    {DType::Q5_K, {"q5_k", 256, 176}}, {DType::Q6_K, {"q6_k", 256, 210}}, {DType::Q8_K, {"q8_k", 256, 292}},
    {DType::IQ4_NL, {"iq4_nl", 32, 18}}, {DType::IQ3_S, {"iq3_s", 256, 110}}, {DType::IQ4_XS, {"iq4_xs", 256, 136}},
};
// ggml's types that lmgen does not run, with the file type (llama.cpp's ftype name) closest in size that it does.
struct Unsupported {
  uint32_t id;
  const char* name;
  const char* instead;
};
constexpr Unsupported kUnsupported[] = {
    {4, "Q4_2", "Q4_0"},        {5, "Q4_3", "Q4_0"},      {16, "IQ2_XXS", "Q2_K"}, {17, "IQ2_XS", "Q2_K"},
    {18, "IQ3_XXS", "IQ3_M"},   {19, "IQ1_S", "Q2_K"},    {22, "IQ2_S", "Q2_K"},   {24, "I8", "Q8_0"},
    {25, "I16", "F16"},         {26, "I32", "F32"},       {27, "I64", "F32"},      {28, "F64", "F32"},
    {29, "IQ1_M", "Q2_K"},      {31, "Q4_0_4_4", "Q4_0"}, {32, "Q4_0_4_8", "Q4_0"}, {33, "Q4_0_8_8", "Q4_0"},
    {34, "TQ1_0", "Q2_K"},      {35, "TQ2_0", "Q2_K"},    {39, "MXFP4", "Q4_0"},
};
}  // namespace

std::string dtype_unsupported_message(uint32_t ggml_type) {
  for (const auto& u : kUnsupported)
    if (u.id == ggml_type)
      return std::string("type ") + u.name + " (ggml id " + std::to_string(u.id) +
             "), which lmgen does not support: use a " + u.instead + " file of the model instead";
  return "unknown type id " + std::to_string(ggml_type) +
         " (lmgen runs F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS and IQ3_S)";
}

bool dtype_known(uint32_t ggml_type) {
  for (const auto& e : kTypes)
    if (static_cast<uint32_t>(e.type) == ggml_type) return true;
  return false;
}

const TypeTraits& dtype_traits(DType t) {
  for (const auto& e : kTypes)
    if (e.type == t) return e.traits;
  throw Error("unknown tensor type id " + std::to_string(static_cast<uint32_t>(t)));
}

DType dtype_from_name(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& e : kTypes)
    if (lower == e.traits.name) return e.type;
  throw UsageError("unknown tensor type '" + std::string(name) + "'");
}

size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tr = dtype_traits(t);
  if (n < 0 || n % tr.block_size != 0)
    throw Error("a row of " + std::to_string(n) + " elements is not a whole number of " + tr.name + " blocks (" +
                std::to_string(tr.block_size) + ")");
  return static_cast<size_t>(n / tr.block_size * tr.type_size);
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string TensorView::shape_str() const { return shape_to_string(shape); }

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t fp32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (absx < 0x38800000u) {                                              // subnormal half or zero
    float a;
    std::memcpy(&a, &absx, 4);
    // a * 2^24 rounded to nearest even gives the subnormal mantissa.
    const float scaled = a * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(__builtin_nearbyintf(scaled));
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // round to nearest even (may carry into exponent)
  return static_cast<uint16_t>(sign | h);
}

uint16_t fp32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace lmgen
