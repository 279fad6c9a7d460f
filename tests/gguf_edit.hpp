// Edited copies of GGUF files, for tests of what the loaders accept and refuse.
#pragma once

#include <cstring>
#include <functional>
#include <string>

#include "common.hpp"
#include "format/gguf.hpp"
#include "format/gguf_writer.hpp"

namespace lmgen::test {

// Copies the GGUF at `src` (every key, every tensor) into the scratch directory as `out_name`, with `edit` applied
// to the writer first; returns the copy's path.
inline std::string edited_gguf(const std::string& src, const std::string& out_name,
                               const std::function<void(GgufWriter&)>& edit) {
  const GgufFile g(src);
  GgufWriter w;
  for (const auto& [key, value] : g.metadata()) w.set_value(key, value);
  for (const GgufTensorInfo& info : g.tensors()) {
    const TensorView t = g.tensor(info.name);
    w.add_tensor(t.name, t.type, t.shape, [t](uint8_t* dst, size_t n) { std::memcpy(dst, t.data, n); });
  }
  edit(w);
  const std::string path = scratch_dir() + "/" + out_name;
  w.write(path);
  return path;
}

}  // namespace lmgen::test
