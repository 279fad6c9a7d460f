// Python binary operators on template values: + - * / // % ** (int, float, str, list rules) and Jinja's ~.
// int is 64-bit here: a result that would need a Python big integer is an error, never a wrapped value.
#include <cmath>

#include "chat/renderer.hpp"
#include "chat/text.hpp"

namespace lmgen::chat {

namespace {

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
  throw ValueError("unsupported operand type(s) for " + std::string(op) + ": '" + a.type_name() + "' and '" +
                   b.type_name() + "'");
}

[[noreturn]] void overflow() { throw ValueError("integer overflow (results beyond 64 bits are not supported)"); }

int64_t int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1)
      if (__builtin_mul_overflow(result, base, &result)) overflow();
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return result;
}

Value arith(std::string_view op, const Value& a, const Value& b) {
  const bool ints = !a.is_float() && !b.is_float();
  const char c = op[0];
  if (ints) {
    const int64_t x = a.get_int(), y = b.get_int();
    int64_t r = 0;
    if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value::integer(r);
    if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value::integer(r);
    if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value::integer(r);
    if (op == "+" || op == "-" || op == "*") overflow();
    if (op == "/") {
      if (y == 0) throw ValueError("division by zero");
      return Value::number(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//" || op == "%") {
      if (y == 0) throw ValueError("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) overflow();
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (y >= 0) return Value::integer(int_pow(x, y));
    if (x == 0) throw ValueError("0.0 cannot be raised to a negative power");
    return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
  }
  const double x = a.get_float(), y = b.get_float();
  switch (c) {
    case '+': return Value::number(x + y);
    case '-': return Value::number(x - y);
    case '/':
      if (op == "/") {
        if (y == 0) throw ValueError("float division by zero");
        return Value::number(x / y);
      }
      if (y == 0) throw ValueError("float floor division by zero");
      return Value::number(std::floor(x / y));
    case '%': {
      if (y == 0) throw ValueError("float modulo");
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value::number(m);
    }
    default:
      if (op == "*") return Value::number(x * y);
      if (x == 0 && y < 0) throw ValueError("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y)) throw ValueError("negative number cannot be raised to a fractional power");
      return Value::number(std::pow(x, y));
  }
}

Value repeat(const Renderer& r, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::string("") : Value::list({});
  if (seq.is_string()) {
    if (seq.str().empty()) return seq;
    if (static_cast<uint64_t>(n) > r.limits().max_output_bytes / seq.str().size()) r.check_size(SIZE_MAX);
    std::string out;
    out.reserve(seq.str().size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::string(std::move(out), seq.is_safe());
  }
  const auto& items = seq.as_list().items;
  if (items.empty()) return seq;
  if (static_cast<uint64_t>(n) > r.limits().max_list_items / items.size()) r.check_items(SIZE_MAX);
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.as_list().flavor == ListData::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

bool plain_list(const Value& v) { return v.is_list() && v.as_list().flavor != ListData::kGenerator; }

}  // namespace

Value binary_op(const Renderer& r, std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = r.to_str(a);
    const std::string t = r.to_str(b);
    r.check_size(s.size() + t.size());
    return Value::string(s + t);
  }
  if (a.is_undefined()) throw ValueError(a.str());
  if (b.is_undefined()) throw ValueError(b.str());
  if (a.is_number() && b.is_number()) return arith(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      r.check_size(a.str().size() + b.str().size());
      if (a.is_safe() == b.is_safe()) return Value::string(a.str() + b.str(), a.is_safe());
      // markupsafe: Markup + str escapes the str, and the result is Markup.
      std::string s = a.is_safe() ? a.str() + text::html_escape(b.str()) : text::html_escape(a.str()) + b.str();
      r.check_size(s.size());
      return Value::string(std::move(s), true);
    }
    if (a.is_string()) throw ValueError("can only concatenate str (not \"" + b.type_name() + "\") to str");
    if (plain_list(a) && plain_list(b) && a.as_list().flavor == b.as_list().flavor) {
      const auto& x = a.as_list().items;
      const auto& y = b.as_list().items;
      r.check_items(x.size() + y.size());
      std::vector<Value> out(x);
      out.insert(out.end(), y.begin(), y.end());
      return a.as_list().flavor == ListData::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || plain_list(a)) && (b.is_int() || b.is_bool())) return repeat(r, a, b.get_int());
    if ((b.is_string() || plain_list(b)) && (a.is_int() || a.is_bool())) return repeat(r, b, a.get_int());
  }
  if (op == "%" && a.is_string()) throw ValueError("printf-style string formatting with % is not supported");
  unsupported(op, a, b);
}

}  // namespace lmgen::chat
