// The file-type table (file_types.hpp): which weight types each `--type` writes, as llama.cpp's llama-quantize
// chooses them (facts of its documented behaviour; the code is lmgen's).
#include "quantize/file_types.hpp"

#include <algorithm>
#include <cctype>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

// A row whose rules all give the base type except the head, which takes `head`.
constexpr FileTypeInfo plain(FileType id, const char* name, DType base, DType head, bool converter_writes = false) {
  return {id, name, base, head, base, base, converter_writes};
}

}  // namespace

const std::vector<FileTypeInfo>& file_types() {
  static const std::vector<FileTypeInfo> table = {
      plain(FileType::F32, "f32", DType::F32, DType::F32, true),
      plain(FileType::F16, "f16", DType::F16, DType::F16, true),
      plain(FileType::Q4_0, "q4_0", DType::Q4_0, DType::Q6_K),
      plain(FileType::Q4_1, "q4_1", DType::Q4_1, DType::Q6_K),
      plain(FileType::Q8_0, "q8_0", DType::Q8_0, DType::Q8_0, true),
      plain(FileType::Q5_0, "q5_0", DType::Q5_0, DType::Q6_K),
      plain(FileType::Q5_1, "q5_1", DType::Q5_1, DType::Q6_K),
      FileTypeInfo{FileType::Q4_K_M, "q4_k_m", DType::Q4_K, DType::Q6_K, DType::Q6_K, DType::Q5_K, false},
      FileTypeInfo{FileType::Q5_K_M, "q5_k_m", DType::Q5_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, false},
      plain(FileType::Q6_K, "q6_k", DType::Q6_K, DType::Q6_K),
      // The 2- to 4-bit types: attn_v, ffn_down and attn_output follow the rules of plan.cpp (low_bit_*).
      plain(FileType::Q2_K, "q2_k", DType::Q2_K, DType::Q6_K),
      plain(FileType::Q3_K_S, "q3_k_s", DType::Q3_K, DType::Q6_K),
      FileTypeInfo{FileType::Q3_K_M, "q3_k_m", DType::Q3_K, DType::Q6_K, DType::Q3_K, DType::Q4_K, false},
      FileTypeInfo{FileType::Q3_K_L, "q3_k_l", DType::Q3_K, DType::Q6_K, DType::Q3_K, DType::Q4_K, false},
      plain(FileType::IQ4_NL, "iq4_nl", DType::IQ4_NL, DType::Q6_K),
      plain(FileType::IQ4_XS, "iq4_xs", DType::IQ4_XS, DType::Q6_K),
      plain(FileType::BF16, "bf16", DType::BF16, DType::BF16, true),
  };
  return table;
}

std::string file_type_names() {
  std::string all;
  for (const FileTypeInfo& f : file_types()) all += std::string(all.empty() ? "" : ", ") + f.name;
  return all;
}

const FileTypeInfo& file_type_named(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const FileTypeInfo& f : file_types())
    if (lower == f.name) return f;
  throw UsageError("unknown file type '" + lower + "' (one of: " + file_type_names() + ")");
}

const FileTypeInfo& file_type_info(FileType id) {
  for (const FileTypeInfo& f : file_types())
    if (f.id == id) return f;
  throw Error("file type " + std::to_string(static_cast<uint32_t>(id)) + " is not in lmgen's table");
}

}  // namespace lmgen
