// write_safetensors (see safetensors_writer.hpp).
#include "format/safetensors_writer.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"

namespace lmgen {

void write_safetensors(const std::string& path, std::vector<SafetensorsEntry> tensors) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  h["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const SafetensorsEntry& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    if (n != static_cast<int64_t>(t.values.size()))
      throw Error(path, "tensor " + t.name + ": " + std::to_string(t.values.size()) + " values for shape " +
                            shape_to_string(t.shape));
    if (h.contains(t.name)) throw Error(path, "duplicate tensor " + t.name);
    const char* dtype = t.type == DType::F32 ? "F32" : t.type == DType::F16 ? "F16" : t.type == DType::BF16 ? "BF16" : nullptr;
    if (dtype == nullptr) throw Error(path, "tensor " + t.name + ": safetensors is written as F32, F16 or BF16");
    const size_t begin = data.size();
    for (float v : t.values) {
      if (t.type == DType::F32) {
        data.append(reinterpret_cast<const char*>(&v), 4);
      } else {
        const uint16_t u = t.type == DType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
        data.append(reinterpret_cast<const char*>(&u), 2);
      }
    }
    h[t.name] = {{"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string hs = h.dump();
  while (hs.size() % 8 != 0) hs += ' ';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const uint64_t len = hs.size();
  f.write(reinterpret_cast<const char*>(&len), 8);
  f << hs << data;
  if (!f.flush()) throw Error(path, "cannot write the file");
}

}  // namespace lmgen
