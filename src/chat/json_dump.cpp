// json_dumps: Python's json.dumps (what the chat templates' `tojson` filter is in Hugging Face transformers).
//
// Separators ", " / ": " (or "," / ": " with indent), insertion order of dict keys kept unless sort_keys,
// floats as Python repr (NaN, Infinity, -Infinity), non-string keys converted as Python does, ensure_ascii
// escaping with surrogate pairs. Anything that is not JSON (undefined, generators, callables) is a TypeError.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/text.hpp"
#include "chat/value.hpp"

namespace lmgen::chat {

namespace {

class JsonWriter {
 public:
  explicit JsonWriter(const JsonDumpOptions& o) : o_(o) {
    indented_ = o.indent >= 0 || !o.indent_str.empty();
    unit_ = o.indent_str.empty() ? std::string(static_cast<size_t>(std::max(o.indent, 0)), ' ') : o.indent_str;
    item_sep_ = o.separators_set ? o.item_sep : indented_ ? "," : ", ";
    key_sep_ = o.separators_set ? o.key_sep : ": ";
  }

  std::string run(const Value& v) {
    write(v, 0);
    return std::move(out_);
  }

 private:
  void add(std::string_view t) {
    if (out_.size() + t.size() > o_.max_bytes)
      throw ValueError("tojson: output too large (limit " + std::to_string(o_.max_bytes) + " bytes)");
    out_ += t;
  }

  void newline(int level) {
    if (!indented_) return;
    add("\n");
    for (int i = 0; i < level; ++i) add(unit_);
  }

  void write_string(std::string_view s) {
    std::string e = "\"";
    for (size_t pos = 0; pos < s.size();) {
      const auto c = static_cast<unsigned char>(s[pos]);
      if (c >= 0x80) {
        const size_t start = pos;
        const char32_t cp = text::next_cp(s, pos);
        if (!o_.ensure_ascii) {
          e.append(s.substr(start, pos - start));
          continue;
        }
        char b[16];
        if (cp >= 0x10000) {
          const char32_t v = cp - 0x10000;
          std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
        } else {
          std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(cp));
        }
        e += b;
        continue;
      }
      ++pos;
      switch (c) {
        case '"': e += "\\\""; break;
        case '\\': e += "\\\\"; break;
        case '\n': e += "\\n"; break;
        case '\r': e += "\\r"; break;
        case '\t': e += "\\t"; break;
        case '\b': e += "\\b"; break;
        case '\f': e += "\\f"; break;
        default:
          if (c < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            e += b;
          } else {
            e += static_cast<char>(c);
          }
      }
    }
    add(e + "\"");
  }

  static std::string number(const Value& v) {
    if (v.is_bool()) return v.get_bool() ? "true" : "false";
    if (v.is_int()) return std::to_string(v.get_int());
    const double f = v.get_float();
    if (std::isnan(f)) return "NaN";
    if (std::isinf(f)) return f < 0 ? "-Infinity" : "Infinity";
    return float_repr(f);
  }

  static std::string key_text(const Value& k) {
    if (k.is_string()) return k.str();
    if (k.is_none()) return "null";
    if (k.is_number()) return number(k);
    throw ValueError("keys must be str, int, float, bool or None, not " + k.type_name());
  }

  void write_list(const ListData& l, int level) {
    if (l.flavor == ListData::kGenerator) throw ValueError("Object of type generator is not JSON serializable");
    if (l.items.empty()) return add("[]");
    add("[");
    for (size_t i = 0; i < l.items.size(); ++i) {
      if (i) add(item_sep_);
      newline(level + 1);
      write(l.items[i], level + 1);
    }
    newline(level);
    add("]");
  }

  void write_dict(const DictData& d, int level) {
    if (d.items.empty()) return add("{}");
    std::vector<std::pair<std::string, const Value*>> entries;
    for (const auto& [k, v] : d.items) entries.emplace_back(key_text(k), &v);
    if (o_.sort_keys)
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    add("{");
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) add(item_sep_);
      newline(level + 1);
      write_string(entries[i].first);
      add(key_sep_);
      write(*entries[i].second, level + 1);
    }
    newline(level);
    add("}");
  }

  void write(const Value& v, int level) {
    switch (v.kind()) {
      case Kind::None: return add("null");
      case Kind::Bool:
      case Kind::Int:
      case Kind::Float: return add(number(v));
      case Kind::String: return write_string(v.str());
      case Kind::List: return write_list(v.as_list(), level);
      case Kind::Dict: return write_dict(v.as_dict(), level);
      default: throw ValueError("Object of type " + v.type_name() + " is not JSON serializable");
    }
  }

  const JsonDumpOptions& o_;
  bool indented_ = false;
  std::string unit_, item_sep_, key_sep_, out_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& o) { return JsonWriter(o).run(v); }

}  // namespace lmgen::chat
