// lmgen::chat::Value — the dynamic value of the chat-template engine (Python objects as Jinja2 sees them).
//
// Kinds: undefined, None, bool, int (int64), float, str (UTF-8), list/tuple/generator, dict (insertion-ordered),
// callable (builtins and macros), namespace (the one mutable object) and the loop object of a for block.
// Containers are shared and never mutated after construction (the template sandbox is immutable), so copying a
// Value is cheap. Nesting depth is tracked at construction and bounded (kMaxValueDepth): printing, comparing and
// destroying values recurse.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen::chat {

constexpr int kMaxValueDepth = 256;
// Containers share their elements, so a small value can stand for a huge tree ([l, l] doubled 60 times): the
// tree size (elements counted once per path) is bounded, which bounds every walk over a value.
constexpr uint64_t kMaxValueNodes = 1 << 24;
constexpr size_t kMaxPrintBytes = 16 << 20;

// A failure while computing a value (Python's TypeError, ValueError, ...). It carries no position: the renderer
// catches it at the innermost expression being evaluated and throws a TemplateError with that line and column.
class ValueError : public std::runtime_error {
 public:
  explicit ValueError(const std::string& what) : std::runtime_error(what) {}
};

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Callable, Namespace, Loop };

struct Object {
  virtual ~Object() = default;
};

class Value;
struct ListData;
struct DictData;
struct CallableData;
struct NamespaceData;
struct LoopData;

class Value {
 public:
  Value() = default;
  static Value undefined(std::string hint = {});  // hint: the error message used if the value is misused
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s, bool safe = false);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value generator(std::vector<Value> items);  // what map/select/... return (lazy in Python)
  static Value dict(std::vector<std::pair<Value, Value>> items);
  static Value callable(std::shared_ptr<CallableData> c);
  static Value namespace_obj(std::shared_ptr<NamespaceData> n);
  static Value loop(std::shared_ptr<LoopData> l);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_list() const { return kind_ == Kind::List; }  // list, tuple or generator
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_callable() const { return kind_ == Kind::Callable; }

  bool get_bool() const { return b_; }
  int64_t get_int() const { return kind_ == Kind::Bool ? (b_ ? 1 : 0) : i_; }
  double get_float() const { return kind_ == Kind::Float ? f_ : static_cast<double>(get_int()); }
  const std::string& str() const { return s_; }  // the text of a string; the hint of an undefined
  bool is_safe() const { return kind_ == Kind::String && b_; }
  const ListData& as_list() const;
  const DictData& as_dict() const;
  const CallableData& as_callable() const;
  NamespaceData& as_namespace() const;
  LoopData& as_loop() const;
  int depth() const;  // nesting depth: 0 for scalars, 1 + deepest element for containers
  uint64_t nodes() const;  // tree size: 1 for scalars
  bool pinned() const;  // a namespace, macro or loop object, or a container holding one

  bool truthy() const;
  // Python str(): what {{ value }} prints (undefined prints as ""); repr(): Python repr(). Both throw ValueError
  // when the text would exceed max_bytes (shared sub-lists can make a small value print huge).
  std::string to_str(size_t max_bytes = kMaxPrintBytes) const;
  std::string repr(size_t max_bytes = kMaxPrintBytes) const;
  std::string type_name() const;  // Python type name: "str", "dict", "NoneType", "Undefined", ...

 private:
  Kind kind_ = Kind::Undefined;
  bool b_ = false;  // Bool value; for String: "safe" mark (escape filter)
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<Object> obj_;
};

struct ListData : Object {
  enum Flavor : uint8_t { kList, kTuple, kGenerator };
  std::vector<Value> items;
  Flavor flavor = kList;
  int depth = 1;
  uint64_t nodes = 1;   // tree size, bounded by kMaxValueNodes
  bool pinned = false;  // holds (at any depth) a namespace, macro or loop object
};

struct DictData : Object {
  std::vector<std::pair<Value, Value>> items;
  int depth = 1;
  uint64_t nodes = 1;
  bool pinned = false;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
};

struct NamespaceData : Object {
  std::vector<std::pair<std::string, Value>> attrs;
  Value* find(std::string_view name);
  void set(const std::string& name, Value v);
};

class Renderer;
struct Stmt;
struct Scope;

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

// A global function (range, namespace, raise_exception, ...), a bound method, or a macro (body + the scope it
// was defined in; scopes outlive every value that can reach them, see renderer.hpp).
struct CallableData : Object {
  std::string name;
  std::function<Value(Renderer&, CallArgs&)> fn;  // builtin
  const Stmt* macro = nullptr;                     // macro or caller block
  Scope* closure = nullptr;
};

// The `loop` variable of a for block; the renderer moves `index` forward.
struct LoopData : Object {
  std::shared_ptr<const ListData> items;
  size_t index = 0;
  int depth = 1;  // always 1: recursive loops (where it grows) are not supported
};

// Equality as Python's ==, ordering as Python's < (throws ValueError for unorderable types), Python hash-free
// membership (`in`).
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b);  // <0, 0, >0
bool contains(const Value& container, const Value& item);

// Python formatting helpers.
std::string float_repr(double f);
std::string string_repr(std::string_view s);

// Python json.dumps(value, ensure_ascii, indent, separators, sort_keys); indent < 0 means None, indent_str is
// used when not empty (indent given as a string). Throws ValueError for values JSON cannot hold.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  int indent = -1;
  std::string indent_str;
  bool separators_set = false;  // false: Python's default for the indent mode
  std::string item_sep, key_sep;
  bool sort_keys = false;
  size_t max_bytes = 16 << 20;
};
std::string json_dumps(const Value& v, const JsonDumpOptions& o);

}  // namespace lmgen::chat
