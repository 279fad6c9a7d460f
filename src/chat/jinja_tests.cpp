// Jinja2 tests (`x is defined`, `x is divisibleby 3`, ...) and their registry.
#include <cmath>

#include "chat/args.hpp"
#include "chat/builtins.hpp"
#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

bool t_defined(Renderer&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Renderer&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Renderer&, const Value& v, CallArgs&) { return v.is_bool(); }
bool t_true(Renderer&, const Value& v, CallArgs&) { return v.is_bool() && v.get_bool(); }
bool t_false(Renderer&, const Value& v, CallArgs&) { return v.is_bool() && !v.get_bool(); }
bool t_integer(Renderer&, const Value& v, CallArgs&) { return v.is_int(); }
bool t_float(Renderer&, const Value& v, CallArgs&) { return v.is_float(); }
bool t_number(Renderer&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Renderer&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Renderer&, const Value& v, CallArgs&) { return v.is_dict(); }
bool t_callable(Renderer&, const Value& v, CallArgs&) { return v.is_callable(); }
bool t_iterable(Renderer&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
bool t_sequence(Renderer&, const Value& v, CallArgs&) {
  return v.is_string() || (v.is_list() && v.as_list().flavor != ListData::kGenerator) || v.is_dict() ||
         v.is_undefined();
}
bool t_escaped(Renderer&, const Value& v, CallArgs&) { return v.is_safe(); }

int64_t int_operand(const Value& v, const char* test) {
  if (v.is_undefined()) throw ValueError(v.str());
  if (!v.is_int() && !v.is_bool()) {
    if (v.is_float() && v.get_float() == std::floor(v.get_float()) && std::fabs(v.get_float()) < 9e18)
      return static_cast<int64_t>(v.get_float());
    throw ValueError(std::string("test '") + test + "' needs an integer, got " + v.type_name());
  }
  return v.get_int();
}

bool t_odd(Renderer&, const Value& v, CallArgs&) { return int_operand(v, "odd") % 2 != 0; }
bool t_even(Renderer&, const Value& v, CallArgs&) { return int_operand(v, "even") % 2 == 0; }
bool t_divisibleby(Renderer&, const Value& v, CallArgs& a) {
  ArgReader args(a, "divisibleby", {"num"});
  const int64_t d = int_operand(args.required(0), "divisibleby");
  if (d == 0) throw ValueError("integer division or modulo by zero");
  return d == -1 || int_operand(v, "divisibleby") % d == 0;
}

bool t_lower(Renderer& r, const Value& v, CallArgs&) { return text::is_lower(r.to_str(v)); }
bool t_upper(Renderer& r, const Value& v, CallArgs&) { return text::is_upper(r.to_str(v)); }

int cmp_arg(const Value& v, CallArgs& a, const char* name) {
  ArgReader args(a, name, {"other"});
  const Value& o = args.required(0);
  if (v.is_undefined()) throw ValueError(v.str());
  if (o.is_undefined()) throw ValueError(o.str());
  return compare(v, o);
}

bool t_eq(Renderer&, const Value& v, CallArgs& a) { return equals(v, ArgReader(a, "eq", {"other"}).required(0)); }
bool t_ne(Renderer&, const Value& v, CallArgs& a) { return !equals(v, ArgReader(a, "ne", {"other"}).required(0)); }
bool t_lt(Renderer&, const Value& v, CallArgs& a) { return cmp_arg(v, a, "lt") < 0; }
bool t_le(Renderer&, const Value& v, CallArgs& a) { return cmp_arg(v, a, "le") <= 0; }
bool t_gt(Renderer&, const Value& v, CallArgs& a) { return cmp_arg(v, a, "gt") > 0; }
bool t_ge(Renderer&, const Value& v, CallArgs& a) { return cmp_arg(v, a, "ge") >= 0; }
bool t_in(Renderer&, const Value& v, CallArgs& a) { return contains(ArgReader(a, "in", {"seq"}).required(0), v); }
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
  const Value& o = ArgReader(a, "sameas", {"other"}).required(0);
  if (v.kind() != o.kind()) return false;
  if (v.is_none() || v.is_undefined()) return true;
  if (v.is_bool()) return v.get_bool() == o.get_bool();
  return (v.is_list() || v.is_dict() || v.is_callable()) && equals(v, o) && v.depth() == o.depth() &&
         (v.is_list() ? &v.as_list() == &o.as_list() : v.is_dict() ? &v.as_dict() == &o.as_dict() : true);
}
bool t_filter(Renderer& r, const Value& v, CallArgs&) { return v.is_string() && find_filter(r.to_str(v)); }
bool t_test(Renderer& r, const Value& v, CallArgs&) { return v.is_string() && find_test(r.to_str(v)); }

struct NamedTest {
  std::string_view name;
  TestFn fn;
};

constexpr NamedTest kTests[] = {
    {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},         {"boolean", t_boolean},
    {"true", t_true},         {"false", t_false},         {"integer", t_integer},   {"float", t_float},
    {"number", t_number},     {"string", t_string},       {"mapping", t_mapping},   {"callable", t_callable},
    {"iterable", t_iterable}, {"sequence", t_sequence},   {"escaped", t_escaped},   {"odd", t_odd},
    {"even", t_even},         {"divisibleby", t_divisibleby}, {"lower", t_lower},   {"upper", t_upper},
    {"eq", t_eq},             {"equalto", t_eq},          {"==", t_eq},             {"ne", t_ne},
    {"!=", t_ne},             {"lt", t_lt},               {"lessthan", t_lt},       {"<", t_lt},
    {"le", t_le},             {"<=", t_le},               {"gt", t_gt},             {"greaterthan", t_gt},
    {">", t_gt},              {"ge", t_ge},               {">=", t_ge},             {"in", t_in},
    {"sameas", t_sameas},     {"filter", t_filter},       {"test", t_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const NamedTest& t : kTests)
    if (t.name == name) return t.fn;
  return nullptr;
}

}  // namespace lmgen::chat
