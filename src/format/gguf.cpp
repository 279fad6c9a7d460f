#include "format/gguf.hpp"

#include <cstring>
#include <limits>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxKeyLen = 1 << 16;
constexpr uint32_t kMaxDims = 4;

// Sequential reader over the mapped file; every read is bounds-checked by MappedFile::span.
class Cursor {
 public:
  Cursor(const MappedFile& f, uint64_t pos) : f_(f), pos_(pos) {}
  uint64_t pos() const { return pos_; }
  template <typename T>
  T read() {
    T v = f_.at<T>(pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string(const char* what) {
    uint64_t len = read<uint64_t>();
    if (len > f_.size()) throw Error(f_.path(), std::string(what) + " length " + std::to_string(len) +
                                                    " is larger than the file (corrupt GGUF)");
    const uint8_t* p = f_.span(pos_, len);
    pos_ += len;
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(len)};
  }
  const uint8_t* skip(uint64_t len) {
    const uint8_t* p = f_.span(pos_, len);
    pos_ += len;
    return p;
  }

 private:
  const MappedFile& f_;
  uint64_t pos_;
};

void read_scalar(Cursor& c, GgufType t, GgufValue& v, const MappedFile& f, const std::string& key) {
  switch (t) {
    case GgufType::U8: v.u = c.read<uint8_t>(); v.i = static_cast<int64_t>(v.u); break;
    case GgufType::I8: v.i = c.read<int8_t>(); break;
    case GgufType::U16: v.u = c.read<uint16_t>(); v.i = static_cast<int64_t>(v.u); break;
    case GgufType::I16: v.i = c.read<int16_t>(); break;
    case GgufType::U32: v.u = c.read<uint32_t>(); v.i = static_cast<int64_t>(v.u); break;
    case GgufType::I32: v.i = c.read<int32_t>(); break;
    case GgufType::U64: v.u = c.read<uint64_t>(); v.i = static_cast<int64_t>(v.u); break;
    case GgufType::I64: v.i = c.read<int64_t>(); break;
    case GgufType::F32: v.f = c.read<float>(); break;
    case GgufType::F64: v.f = c.read<double>(); break;
    case GgufType::BOOL: {
      uint8_t b = c.read<uint8_t>();
      if (b > 1) throw Error(f.path(), "metadata key '" + key + "': bool value " + std::to_string(b));
      v.u = b;
      v.i = b;
      break;
    }
    case GgufType::STRING: v.str = c.read_string("metadata string"); break;
    default:
      throw Error(f.path(), "metadata key '" + key + "' has unknown value type " +
                                std::to_string(static_cast<uint32_t>(t)));
  }
}

// One metadata value (after its key): a scalar, or an array of strings or scalars (viewed in place).
GgufValue read_value(Cursor& c, const MappedFile& f, const std::string& skey) {
  const std::string& path = f.path();
  GgufValue v;
  v.type = static_cast<GgufType>(c.read<uint32_t>());
  if (v.type == GgufType::ARRAY) {
    v.elem_type = static_cast<GgufType>(c.read<uint32_t>());
    v.count = c.read<uint64_t>();
    if (v.elem_type == GgufType::STRING) {
      if (v.count > (f.size() - c.pos()) / 8)
        throw Error(path, "metadata array '" + skey + "' count " + std::to_string(v.count) + " exceeds the file");
      v.strings.reserve(static_cast<size_t>(v.count));
      for (uint64_t j = 0; j < v.count; ++j) v.strings.push_back(c.read_string("metadata string"));
    } else {
      size_t es = gguf_scalar_size(v.elem_type);
      if (es == 0)
        throw Error(path, "metadata array '" + skey + "' has unsupported element type " +
                              std::to_string(static_cast<uint32_t>(v.elem_type)));
      if (v.count > (f.size() - c.pos()) / es)
        throw Error(path, "metadata array '" + skey + "' count " + std::to_string(v.count) + " exceeds the file");
      v.elems = c.skip(v.count * es);
    }
  } else {
    read_scalar(c, v.type, v, f, skey);
  }
  return v;
}

// One tensor info: name, dimensions, type and offset (relative to the data section), checked against the file size.
GgufTensorInfo read_tensor_info(Cursor& c, const MappedFile& f) {
  const std::string& path = f.path();
  GgufTensorInfo ti;
  ti.name = std::string(c.read_string("tensor name"));
  uint32_t n_dims = c.read<uint32_t>();
  if (n_dims == 0 || n_dims > kMaxDims)
    throw Error(path, "tensor '" + ti.name + "' has " + std::to_string(n_dims) + " dimensions");
  uint64_t n_el = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t ne = c.read<uint64_t>();
    if (ne == 0 || ne > (uint64_t{1} << 40) || n_el > (uint64_t{1} << 62) / ne)
      throw Error(path, "tensor '" + ti.name + "' has an impossible dimension " + std::to_string(ne));
    n_el *= ne;
    ti.ne.push_back(static_cast<int64_t>(ne));
  }
  uint32_t type = c.read<uint32_t>();
  if (!dtype_known(type))
    throw Error(path, "tensor '" + ti.name + "' has " + dtype_unsupported_message(type));
  ti.type = static_cast<DType>(type);
  const TypeTraits& tr = dtype_traits(ti.type);
  if (ti.ne[0] % tr.block_size != 0)
    throw Error(path, "tensor '" + ti.name + "': row of " + std::to_string(ti.ne[0]) + " is not a multiple of the " +
                          tr.name + " block size " + std::to_string(tr.block_size));
  // n_el <= 2^62 but n_el * type_size can still wrap (2^62 F32 elements would need 2^64 bytes -> 0): bound the
  // block count by the file size first.
  const uint64_t blocks = n_el / static_cast<uint64_t>(tr.block_size);
  if (blocks > f.size() / static_cast<uint64_t>(tr.type_size))
    throw Error(path, "tensor '" + ti.name + "' of " + std::to_string(n_el) + " " + tr.name +
                          " elements is larger than the file");
  ti.nbytes = blocks * static_cast<uint64_t>(tr.type_size);
  ti.offset = c.read<uint64_t>();  // relative for now
  return ti;
}

}  // namespace

size_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: case GgufType::BOOL: return true;
    default: return false;
  }
}

int64_t GgufValue::as_int() const {
  if (!is_integer()) throw Error(std::string("expected an integer, found ") + gguf_type_name(type));
  if (type == GgufType::U64 && u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw Error("integer value " + std::to_string(u) + " out of range");
  return i;
}

double GgufValue::as_float() const {
  if (is_float()) return f;
  return static_cast<double>(as_int());
}

bool GgufFile::sniff(const std::string& path) {
  // Through a map, not a buffered read: a read() of the first bytes would make the kernel read ahead megabytes of
  // the file into small page-cache folios, where the model's own map (advised for huge pages) would have read it
  // into 2 MiB ones (mapped_file.cpp).
  try {
    return sniff(*MappedFile::open(path));
  } catch (const Error&) {
    return false;  // cannot open: not a GGUF file as far as format detection is concerned
  }
}

bool GgufFile::sniff(const MappedFile& f) { return f.size() >= 4 && f.at<uint32_t>(0) == kMagic; }

GgufFile::GgufFile(const std::string& path, FileAccess access) : GgufFile(MappedFile::open(path, access)) {}

GgufFile::GgufFile(std::shared_ptr<MappedFile> file) : file_(std::move(file)) {
  const MappedFile& f = *file_;
  const std::string& path = f.path();
  if (f.size() < 4 || f.at<uint32_t>(0) != kMagic) throw Error(path, "not a GGUF file (bad magic)");
  Cursor c(f, 4);
  version_ = c.read<uint32_t>();
  if (version_ != 2 && version_ != 3)
    throw Error(path, "unsupported GGUF version " + std::to_string(version_) + " (supported: 2, 3)");
  const uint64_t n_tensors = c.read<uint64_t>();
  const uint64_t n_kv = c.read<uint64_t>();
  // Every kv takes at least 8+1+4+1 bytes and every tensor info at least 8+4+8+4+8: bound counts by file size.
  if (n_kv > f.size() / 14) throw Error(path, "metadata count " + std::to_string(n_kv) + " is impossible for the file size");
  if (n_tensors > f.size() / 32)
    throw Error(path, "tensor count " + std::to_string(n_tensors) + " is impossible for the file size");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string_view key = c.read_string("metadata key");
    if (key.size() > kMaxKeyLen) throw Error(path, "metadata key too long");
    std::string skey(key);
    GgufValue v = read_value(c, f, skey);
    if (!kv_.emplace(std::move(skey), std::move(v)).second)
      throw Error(path, "duplicate metadata key '" + std::string(key) + "'");
  }

  if (const GgufValue* a = find("general.alignment")) {
    int64_t al = a->as_int();
    if (al <= 0 || al > (1 << 20) || (al & (al - 1)) != 0)
      throw Error(path, "general.alignment " + std::to_string(al) + " is not a power of two");
    alignment_ = static_cast<uint64_t>(al);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t t = 0; t < n_tensors; ++t) {
    tensors_.push_back(read_tensor_info(c, f));
  }

  uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    GgufTensorInfo& ti = tensors_[t];
    if (ti.offset % alignment_ != 0)
      throw Error(path, "tensor '" + ti.name + "' offset " + std::to_string(ti.offset) + " is not aligned to " +
                            std::to_string(alignment_));
    if (ti.offset > f.size() || data_start > f.size() - ti.offset || ti.nbytes > f.size() - data_start - ti.offset)
      throw Error(path, "tensor '" + ti.name + "' (" + std::to_string(ti.nbytes) + " bytes at data offset " +
                            std::to_string(ti.offset) + ") extends past the end of the file (truncated?)");
    ti.offset += data_start;
    if (!tensor_index_.emplace(ti.name, t).second) throw Error(path, "duplicate tensor name '" + ti.name + "'");
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path(), "missing metadata key '" + std::string(key) + "'");
  return *v;
}

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::STRING)
    throw Error(path(), "metadata key '" + std::string(key) + "' is " + gguf_type_name(v.type) + ", expected string");
  return std::string(v.str);
}

std::optional<std::string> GgufFile::get_string_opt(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue& v = require(key);
  try {
    return v.as_int();
  } catch (const Error& e) {
    throw Error(path(), "metadata key '" + std::string(key) + "': " + e.what());
  }
}

std::optional<int64_t> GgufFile::get_int_opt(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_int(key);
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue& v = require(key);
  try {
    return v.as_float();
  } catch (const Error& e) {
    throw Error(path(), "metadata key '" + std::string(key) + "': " + e.what());
  }
}

std::optional<double> GgufFile::get_float_opt(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_float(key);
}

std::optional<bool> GgufFile::get_bool_opt(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::BOOL)
    throw Error(path(), "metadata key '" + std::string(key) + "' is " + gguf_type_name(v->type) + ", expected bool");
  return v->u != 0;
}

const std::vector<std::string_view>& GgufFile::get_string_array(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::ARRAY || v.elem_type != GgufType::STRING)
    throw Error(path(), "metadata key '" + std::string(key) + "' is not an array of strings");
  return v.strings;
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::ARRAY || v.elem_type != GgufType::F32)
    throw Error(path(), "metadata key '" + std::string(key) + "' is not an array of f32");
  std::vector<float> out(static_cast<size_t>(v.count));
  if (!out.empty()) std::memcpy(out.data(), v.elems, out.size() * 4);
  return out;
}

std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::ARRAY)
    throw Error(path(), "metadata key '" + std::string(key) + "' is not an array");
  std::vector<int32_t> out(static_cast<size_t>(v.count));
  for (size_t j = 0; j < out.size(); ++j) {
    int64_t x;
    switch (v.elem_type) {
      case GgufType::I32: { int32_t t; std::memcpy(&t, v.elems + 4 * j, 4); x = t; break; }
      case GgufType::U32: { uint32_t t; std::memcpy(&t, v.elems + 4 * j, 4); x = t; break; }
      case GgufType::I8: x = static_cast<int8_t>(v.elems[j]); break;
      case GgufType::U8: x = v.elems[j]; break;
      case GgufType::I16: { int16_t t; std::memcpy(&t, v.elems + 2 * j, 2); x = t; break; }
      case GgufType::U16: { uint16_t t; std::memcpy(&t, v.elems + 2 * j, 2); x = t; break; }
      case GgufType::I64: { int64_t t; std::memcpy(&t, v.elems + 8 * j, 8); x = t; break; }
      case GgufType::U64: { uint64_t t; std::memcpy(&t, v.elems + 8 * j, 8); x = static_cast<int64_t>(t); break; }
      default: throw Error(path(), "metadata key '" + std::string(key) + "' is not an integer array");
    }
    if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max())
      throw Error(path(), "metadata key '" + std::string(key) + "' has an element out of int32 range");
    out[j] = static_cast<int32_t>(x);
  }
  return out;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* ti = find_tensor(name);
  if (!ti) throw Error(path(), "missing tensor '" + std::string(name) + "'");
  TensorView v;
  v.name = ti->name;
  v.type = ti->type;
  v.shape.assign(ti->ne.rbegin(), ti->ne.rend());
  v.data = file_->span(ti->offset, ti->nbytes);
  v.nbytes = ti->nbytes;
  return v;
}

}  // namespace lmgen
