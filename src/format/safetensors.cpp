#include "format/safetensors.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"

namespace lmgen {

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100ull << 20;  // 100 MB: real headers are a few hundred KB at most

struct DtypeEntry {
  const char* name;
  size_t size;
};
// Every dtype the safetensors format defines (so byte lengths can be validated), plus which lmgen computes with.
constexpr DtypeEntry kDtypes[] = {
    {"F64", 8},     {"F32", 4},     {"F16", 2},      {"BF16", 2},     {"I64", 8},      {"U64", 8},
    {"I32", 4},     {"U32", 4},     {"I16", 2},      {"U16", 2},      {"I8", 1},       {"U8", 1},
    {"BOOL", 1},    {"F8_E4M3", 1}, {"F8_E5M2", 1},  {"F8_E8M0", 1},
};

bool supported_dtype(std::string_view s, DType& out) {
  if (s == "F32") out = DType::F32;
  else if (s == "F16") out = DType::F16;
  else if (s == "BF16") out = DType::BF16;
  else return false;
  return true;
}

// A non-negative JSON integer as u64; false for anything else (floats, negatives, strings, ...).
bool json_u64(const json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

// A short rendering of a header value for messages: scalars and flat arrays of scalars are printed (at most 60
// characters), anything nested only by type, so a hostile value is never walked recursively.
std::string dump_short(const json& j) {
  std::string s;
  if (j.is_array()) {
    s = "[";
    for (size_t i = 0; i < j.size() && s.size() < 60; ++i) {
      if (i) s += ", ";
      s += j[i].is_structured() ? std::string(j[i].type_name()) : j[i].dump();
    }
    s += "]";
  } else {
    s = j.is_structured() ? std::string(j.type_name()) : j.dump();
  }
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace

size_t safetensors_dtype_size(std::string_view dtype) {
  for (const auto& e : kDtypes)
    if (dtype == e.name) return e.size;
  return 0;
}

namespace {

// One header entry {"dtype", "shape", "data_offsets"}, checked against the dtype's size and the data section.
SafetensorsTensorInfo read_entry(const std::string& name, const json& e, const std::string& path, uint64_t data_start,
                                 uint64_t data_size) {
  auto bad = [&](const std::string& what) -> Error { return Error(path, "tensor '" + name + "': " + what); };
  if (!e.is_object()) throw bad("header entry is not an object");
  auto d = e.find("dtype");
  auto s = e.find("shape");
  auto o = e.find("data_offsets");
  if (d == e.end() || !d->is_string()) throw bad("missing or non-string 'dtype'");
  if (s == e.end() || !s->is_array()) throw bad("missing or non-array 'shape'");
  if (o == e.end() || !o->is_array() || o->size() != 2) throw bad("'data_offsets' must be [begin, end]");

  SafetensorsTensorInfo t;
  t.name = name;
  t.dtype = d->get<std::string>();
  const size_t esize = safetensors_dtype_size(t.dtype);
  if (esize == 0) throw bad("unknown dtype '" + t.dtype + "'");
  t.supported = supported_dtype(t.dtype, t.type);

  if (s->size() > 8) throw bad("shape " + dump_short(*s) + " has more than 8 dimensions");
  uint64_t n = 1;
  for (const json& dim : *s) {
    uint64_t v = 0;
    if (!json_u64(dim, v) || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw bad("shape " + dump_short(*s) + " is not a list of non-negative integers");
    if (v != 0 && n > (1ull << 62) / v) throw bad("shape " + dump_short(*s) + " has too many elements");
    n *= v;
    t.shape.push_back(static_cast<int64_t>(v));
  }
  const uint64_t expect_bytes = n * esize;  // n <= 2^62, esize <= 8: no overflow in practice, checked below
  if (n != 0 && expect_bytes / n != esize) throw bad("shape " + dump_short(*s) + " has too many bytes");

  uint64_t begin = 0, end = 0;
  if (!json_u64((*o)[0], begin) || !json_u64((*o)[1], end))
    throw bad("'data_offsets' " + dump_short(*o) + " are not non-negative integers");
  if (begin > end) throw bad("'data_offsets' " + dump_short(*o) + " end before they begin");
  if (end > data_size)
    throw bad("'data_offsets' " + dump_short(*o) + " run past the end of the data section (" +
              std::to_string(data_size) + " bytes; file truncated?)");
  if (end - begin != expect_bytes)
    throw bad("shape " + shape_to_string(t.shape) + " of " + t.dtype + " needs " + std::to_string(expect_bytes) +
              " bytes but data_offsets " + dump_short(*o) + " span " + std::to_string(end - begin));
  t.offset = data_start + begin;
  t.nbytes = end - begin;
  return t;
}

// No two tensors may share bytes (zero-length tensors take no bytes).
void check_no_overlap(const std::vector<SafetensorsTensorInfo>& tensors, const std::string& path) {
  std::vector<const SafetensorsTensorInfo*> by_start;
  for (const auto& t : tensors)
    if (t.nbytes > 0) by_start.push_back(&t);
  std::sort(by_start.begin(), by_start.end(),
            [](const auto* a, const auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_start.size(); ++i) {
    const auto* a = by_start[i - 1];
    const auto* b = by_start[i];
    if (b->offset < a->offset + a->nbytes)
      throw Error(path, "tensors '" + a->name + "' and '" + b->name + "' overlap in the data section");
  }
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path, FileAccess access)
    : file_(MappedFile::open(path, access)) {
  const MappedFile& f = *file_;
  if (f.size() < 8) throw Error(path, "not a safetensors file: " + std::to_string(f.size()) + " bytes, too short for a header");
  const uint64_t header_len = f.at<uint64_t>(0);
  if (header_len >= kMaxHeader)
    throw Error(path, "safetensors header length " + std::to_string(header_len) + " is absurd (limit 100 MB)");
  if (header_len > f.size() - 8)
    throw Error(path, "truncated: safetensors header of " + std::to_string(header_len) + " bytes but the file has " +
                          std::to_string(f.size()) + " bytes");
  data_start_ = 8 + header_len;
  const uint64_t data_size = f.size() - data_start_;

  const char* hb = reinterpret_cast<const char*>(f.span(8, header_len));
  json header;
  try {
    header = json::parse(hb, hb + header_len);
  } catch (const json::exception& e) {
    throw Error(path, std::string("safetensors header is not valid JSON: ") + json_error_text(e));
  }
  check_json_depth(header, path);  // before anything walks or prints it (real headers are 3 levels deep)
  if (!header.is_object()) throw Error(path, "safetensors header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    SafetensorsTensorInfo t = read_entry(name, it.value(), path, data_start_, data_size);
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  check_no_overlap(tensors_, path);
}

const SafetensorsTensorInfo* SafetensorsFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

TensorView SafetensorsFile::tensor(std::string_view name) const {
  const SafetensorsTensorInfo* t = find_tensor(name);
  if (t == nullptr) throw Error(path(), "missing tensor " + std::string(name));
  if (!t->supported)
    throw Error(path(), "tensor '" + t->name + "' has dtype " + t->dtype +
                            ", which lmgen does not support (supported: F32, F16, BF16)");
  TensorView v;
  v.name = t->name;
  v.type = t->type;
  v.shape = t->shape;
  v.data = file_->span(t->offset, t->nbytes);
  v.nbytes = t->nbytes;
  return v;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_file(const std::string& path, FileAccess access) {
  SafetensorsCheckpoint c;
  c.source_ = path;
  auto f = std::make_shared<const SafetensorsFile>(path, access);
  for (const auto& t : f->tensors()) c.where_.emplace(t.name, 0);
  c.files_.push_back(std::move(f));
  return c;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_dir(const std::string& dir, FileAccess access) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  const fs::path single = d / "model.safetensors";
  const fs::path index = d / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(single, ec)) return open_file(single.string(), access);
  if (!fs::exists(index, ec)) {
    const bool pickle = fs::exists(d / "pytorch_model.bin", ec) || fs::exists(d / "pytorch_model.bin.index.json", ec);
    throw Error(dir, std::string("no model.safetensors or model.safetensors.index.json in this directory") +
                         (pickle ? " (PyTorch pickle checkpoints (pytorch_model.bin) are not supported: convert them "
                                   "to safetensors)"
                                 : ""));
  }

  const std::string index_path = index.string();
  auto idx_file = MappedFile::open(index_path);
  if (idx_file->size() == 0) throw Error(index_path, "empty file");
  json j;
  try {
    const char* p = reinterpret_cast<const char*>(idx_file->data());
    j = json::parse(p, p + idx_file->size());
  } catch (const json::exception& e) {
    throw Error(index_path, std::string("not valid JSON: ") + json_error_text(e));
  }
  check_json_depth(j, index_path);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(index_path, "no \"weight_map\" object");

  SafetensorsCheckpoint c;
  c.source_ = index_path;
  c.sharded_ = true;
  std::map<std::string, size_t> shard_index;  // shard file name -> index in files_
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      throw Error(index_path, "weight_map entry for '" + it.key() + "' is not a file name");
    const std::string shard = it.value().get<std::string>();
    const fs::path rel(shard);
    if (shard.empty() || rel.is_absolute() ||
        std::any_of(rel.begin(), rel.end(), [](const fs::path& part) { return part == ".."; }))
      throw Error(index_path, "weight_map entry for '" + it.key() + "' names an invalid shard file '" + shard + "'");
    auto s = shard_index.find(shard);
    if (s == shard_index.end()) {
      const fs::path shard_path = d / rel;
      if (!fs::is_regular_file(shard_path, ec))
        throw Error(shard_path.string(), "missing shard file (listed in " + index_path + ")");
      s = shard_index.emplace(shard, c.files_.size()).first;
      c.files_.push_back(std::make_shared<const SafetensorsFile>(shard_path.string(), access));
    }
    const SafetensorsFile& f = *c.files_[s->second];
    if (f.find_tensor(it.key()) == nullptr)
      throw Error(f.path(), "missing tensor " + it.key() + " (the index " + index_path + " places it here)");
    c.where_.emplace(it.key(), s->second);
  }
  if (c.files_.empty()) throw Error(index_path, "weight_map is empty");
  return c;
}

const SafetensorsFile* SafetensorsCheckpoint::file_of(std::string_view name) const {
  auto it = where_.find(name);
  return it == where_.end() ? nullptr : files_[it->second].get();
}

TensorView SafetensorsCheckpoint::tensor(std::string_view name) const {
  const SafetensorsFile* f = file_of(name);
  if (f == nullptr) throw Error(source_, "missing tensor " + std::string(name));
  return f->tensor(name);
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [name, i] : where_) out.push_back(name);
  return out;
}

}  // namespace lmgen
