// The file types `lmgen quantize` and `lmgen convert` write: llama.cpp's `general.file_type` values (llama_ftype),
// each with its name on the command line, its base weight type and its per-tensor rules (plan.cpp applies them).
//
// Adding a type is one enumerator below (llama.cpp's number for it) and one row of the table in file_types.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmgen/tensor.hpp"

namespace lmgen {

// general.file_type: what llama.cpp calls llama_ftype ("mostly" Q4_K_M: the base type of most weights).
enum class FileType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q2_K = 10,
  Q3_K_S = 11,
  Q3_K_M = 12,
  Q3_K_L = 13,
  Q4_K_M = 15,
  Q5_K_M = 17,
  Q6_K = 18,
  IQ4_NL = 25,
  IQ4_XS = 30,
  BF16 = 32,
};

// One row of the table. The rule types apply unless the plan is --pure; each falls back by row length like the
// base (plan.cpp). For a float base every rule type is the base itself.
struct FileTypeInfo {
  FileType id;
  const char* name;      // lower case, as `--type` takes it ("q4_k_m")
  DType base;            // the type of every re-encoded weight no rule names
  DType head;            // output.weight (or the tied token_embd.weight)
  DType more_bits;       // attn_v / ffn_down on the "more bits" layers (use_more_bits in plan.cpp)
  DType fused_qkv;       // attn_qkv.weight (gpt2's fused q|k|v)
  bool converter_writes;  // `lmgen convert` writes it directly (llama.cpp's convert_hf_to_gguf.py --outtype set)
};

// The row named `name` (case-insensitive). Throws UsageError listing the names for an unknown one.
const FileTypeInfo& file_type_named(const std::string& name);
const FileTypeInfo& file_type_info(FileType id);
// Every row, in table order (for help texts and listings).
const std::vector<FileTypeInfo>& file_types();
// "q8_0, q4_0, ..." (the table's names, comma-separated).
std::string file_type_names();

}  // namespace lmgen
