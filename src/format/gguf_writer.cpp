// GGUF v3 writer (see gguf_writer.hpp for the layout).
#include "format/gguf_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

template <typename T>
void append_pod(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void append_str(std::string& out, std::string_view s) {
  append_pod<uint64_t>(out, s.size());
  out.append(s.data(), s.size());
}

// Encodes a decoded scalar of a GgufValue back into its wire form.
void append_scalar(std::string& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8: append_pod<uint8_t>(out, static_cast<uint8_t>(v.u)); return;
    case GgufType::BOOL: append_pod<uint8_t>(out, v.u ? 1 : 0); return;
    case GgufType::I8: append_pod<int8_t>(out, static_cast<int8_t>(v.i)); return;
    case GgufType::U16: append_pod<uint16_t>(out, static_cast<uint16_t>(v.u)); return;
    case GgufType::I16: append_pod<int16_t>(out, static_cast<int16_t>(v.i)); return;
    case GgufType::U32: append_pod<uint32_t>(out, static_cast<uint32_t>(v.u)); return;
    case GgufType::I32: append_pod<int32_t>(out, static_cast<int32_t>(v.i)); return;
    case GgufType::U64: append_pod<uint64_t>(out, v.u); return;
    case GgufType::I64: append_pod<int64_t>(out, v.i); return;
    case GgufType::F32: append_pod<float>(out, static_cast<float>(v.f)); return;
    case GgufType::F64: append_pod<double>(out, v.f); return;
    case GgufType::STRING: append_str(out, v.str); return;
    default: throw Error(std::string("GgufWriter: cannot copy a value of type ") + gguf_type_name(v.type));
  }
}

uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

constexpr size_t kWriteChunk = size_t{2} << 20;

}  // namespace

void GgufWriter::put(std::string_view key, GgufType type, std::string encoded) {
  if (key.empty()) throw Error("GgufWriter: empty metadata key");
  for (Kv& kv : kv_)
    if (kv.key == key) {
      kv.type = static_cast<uint32_t>(type);
      kv.encoded = std::move(encoded);
      return;
    }
  kv_.push_back({std::string(key), static_cast<uint32_t>(type), std::move(encoded)});
}

namespace {
template <typename T>
std::string encode_pod(T v) {
  std::string e;
  append_pod(e, v);
  return e;
}
}  // namespace

void GgufWriter::set_u8(std::string_view key, uint8_t v) { put(key, GgufType::U8, encode_pod(v)); }
void GgufWriter::set_i32(std::string_view key, int32_t v) { put(key, GgufType::I32, encode_pod(v)); }
void GgufWriter::set_u32(std::string_view key, uint32_t v) { put(key, GgufType::U32, encode_pod(v)); }
void GgufWriter::set_u64(std::string_view key, uint64_t v) { put(key, GgufType::U64, encode_pod(v)); }
void GgufWriter::set_f32(std::string_view key, float v) { put(key, GgufType::F32, encode_pod(v)); }
void GgufWriter::set_bool(std::string_view key, bool v) { put(key, GgufType::BOOL, encode_pod<uint8_t>(v ? 1 : 0)); }
void GgufWriter::set_string(std::string_view key, std::string_view v) {
  std::string e;
  append_str(e, v);
  put(key, GgufType::STRING, std::move(e));
}
void GgufWriter::set_string_array(std::string_view key, const std::vector<std::string_view>& v) {
  std::string e;
  append_pod<uint32_t>(e, static_cast<uint32_t>(GgufType::STRING));
  append_pod<uint64_t>(e, v.size());
  for (std::string_view s : v) append_str(e, s);
  put(key, GgufType::ARRAY, std::move(e));
}
void GgufWriter::set_string_array(std::string_view key, const std::vector<std::string>& v) {
  std::vector<std::string_view> views(v.begin(), v.end());
  set_string_array(key, views);
}
namespace {
template <typename T>
std::string encode_array(GgufType elem, const std::vector<T>& v) {
  std::string e;
  append_pod<uint32_t>(e, static_cast<uint32_t>(elem));
  append_pod<uint64_t>(e, v.size());
  for (T x : v) append_pod(e, x);
  return e;
}
}  // namespace

void GgufWriter::set_f32_array(std::string_view key, const std::vector<float>& v) {
  put(key, GgufType::ARRAY, encode_array(GgufType::F32, v));
}
void GgufWriter::set_i32_array(std::string_view key, const std::vector<int32_t>& v) {
  put(key, GgufType::ARRAY, encode_array(GgufType::I32, v));
}

void GgufWriter::set_value(std::string_view key, const GgufValue& v) {
  std::string e;
  if (v.type == GgufType::ARRAY) {
    append_pod<uint32_t>(e, static_cast<uint32_t>(v.elem_type));
    append_pod<uint64_t>(e, v.count);
    if (v.elem_type == GgufType::STRING) {
      if (v.strings.size() != v.count) throw Error("GgufWriter: string array '" + std::string(key) + "' is incomplete");
      for (std::string_view s : v.strings) append_str(e, s);
    } else {
      size_t es = gguf_scalar_size(v.elem_type);
      if (es == 0 || (v.count > 0 && v.elems == nullptr))
        throw Error("GgufWriter: cannot copy array '" + std::string(key) + "' of element type " +
                    gguf_type_name(v.elem_type));
      e.append(reinterpret_cast<const char*>(v.elems), es * v.count);
    }
  } else {
    append_scalar(e, v);
  }
  put(key, v.type, std::move(e));
}

void GgufWriter::remove(std::string_view key) {
  std::erase_if(kv_, [&](const Kv& kv) { return kv.key == key; });
}

bool GgufWriter::has(std::string_view key) const {
  for (const Kv& kv : kv_)
    if (kv.key == key) return true;
  return false;
}

size_t GgufWriter::tensor_bytes(DType type, const std::vector<int64_t>& shape) {
  if (shape.empty() || shape.size() > 4) throw Error("GgufWriter: a tensor needs 1 to 4 dimensions");
  int64_t rows = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw Error("GgufWriter: tensor dimensions must be positive, got " + shape_to_string(shape));
    rows *= d;
  }
  rows /= shape.back();
  return row_bytes(type, shape.back()) * static_cast<size_t>(rows);
}

void GgufWriter::add_tensor(std::string_view name, DType type, const std::vector<int64_t>& shape, Producer produce) {
  if (name.empty()) throw Error("GgufWriter: empty tensor name");
  for (const Tensor& t : tensors_)
    if (t.name == name) throw Error("GgufWriter: duplicate tensor name '" + std::string(name) + "'");
  size_t nbytes;
  try {
    nbytes = tensor_bytes(type, shape);
  } catch (const Error& e) {
    throw Error("GgufWriter: tensor '" + std::string(name) + "' " + shape_to_string(shape) + " as " +
                dtype_name(type) + ": " + e.what());
  }
  tensors_.push_back({std::string(name), type, shape, nbytes, std::move(produce)});
}

uint64_t GgufWriter::alignment() const {
  for (const Kv& kv : kv_)
    if (kv.key == "general.alignment") {
      uint32_t a = 0;
      if (kv.type != static_cast<uint32_t>(GgufType::U32) || kv.encoded.size() != 4)
        throw Error("GgufWriter: general.alignment must be a u32");
      std::memcpy(&a, kv.encoded.data(), 4);
      if (a == 0 || (a & (a - 1)) != 0) throw Error("GgufWriter: general.alignment must be a power of two");
      return a;
    }
  return 32;
}

std::string GgufWriter::encode_header(uint64_t align) const {
  std::string head;
  head.append("GGUF", 4);
  append_pod<uint32_t>(head, 3);
  append_pod<uint64_t>(head, tensors_.size());
  append_pod<uint64_t>(head, kv_.size());
  for (const Kv& kv : kv_) {
    append_str(head, kv.key);
    append_pod<uint32_t>(head, kv.type);
    head += kv.encoded;
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    append_str(head, t.name);
    append_pod<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) append_pod<uint64_t>(head, static_cast<uint64_t>(*it));
    append_pod<uint32_t>(head, static_cast<uint32_t>(t.type));
    append_pod<uint64_t>(head, offset);
    offset = pad_to(offset + t.nbytes, align);
  }
  head.resize(pad_to(head.size(), align), '\0');
  return head;
}

void GgufWriter::write(const std::string& path) const {
  const uint64_t align = alignment();
  const std::string head = encode_header(align);

  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec)) throw Error(path, "the output is a directory, not a file");
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(path, std::string("cannot create file: ") + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    if (fd >= 0) ::close(fd);
    fd = -1;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw Error(path, what);
  };
  // The file goes out in whole 2 MiB write() calls at 2 MiB offsets: on Linux file systems with large folios (ext4
  // since 6.16, xfs) the page cache then holds it in 2 MiB folios, which a later memory map gets as huge pages
  // (the weights stream faster: fewer TLB misses, no hardware-prefetch stop every 4 KiB).
  std::vector<uint8_t> chunk;
  chunk.reserve(kWriteChunk);
  auto flush_chunk = [&] {
    size_t done = 0;
    while (done < chunk.size()) {
      const ssize_t r = ::write(fd, chunk.data() + done, chunk.size() - done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) fail(std::string("write failed: ") + std::strerror(r < 0 ? errno : EIO));
      done += static_cast<size_t>(r);
    }
    chunk.clear();
  };
  auto put_bytes = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      const size_t take = std::min(n, kWriteChunk - chunk.size());
      chunk.insert(chunk.end(), b, b + take);
      b += take;
      n -= take;
      if (chunk.size() == kWriteChunk) flush_chunk();
    }
  };
  put_bytes(head.data(), head.size());
  std::vector<uint8_t> buf;
  const std::vector<uint8_t> zeros(align, 0);
  for (const Tensor& t : tensors_) {
    buf.assign(t.nbytes, 0);
    try {
      t.produce(buf.data(), buf.size());
    } catch (const std::exception& e) {
      fail("while writing tensor '" + t.name + "': " + e.what());
    }
    put_bytes(buf.data(), buf.size());
    put_bytes(zeros.data(), pad_to(t.nbytes, align) - t.nbytes);
  }
  flush_chunk();
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail(std::string("write failed: ") + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw Error(path, std::string("cannot rename the finished file into place: ") + std::strerror(err));
  }
}

}  // namespace lmgen
