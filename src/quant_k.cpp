// Reference encoders for the K-quant types Q4_K, Q5_K, Q6_K.
#include "lmgen/error.hpp"
#include "quant_blocks.hpp"

namespace lmgen {

void quantize_row_q4_k(const float*, void*, int64_t) { throw Error("quantize_row: q4_k encoding not implemented yet"); }
void quantize_row_q5_k(const float*, void*, int64_t) { throw Error("quantize_row: q5_k encoding not implemented yet"); }
void quantize_row_q6_k(const float*, void*, int64_t) { throw Error("quantize_row: q6_k encoding not implemented yet"); }

}  // namespace lmgen
