// ArgReader: binds the arguments of a call to a builtin (filter, test, global, method) to its Python-style
// parameter list, by position or keyword, and converts them with clear errors.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/value.hpp"

namespace lmgen::chat {

class ArgReader {
 public:
  // Throws ValueError on too many positional arguments or an unknown / repeated keyword.
  ArgReader(const CallArgs& args, std::string_view fn, std::initializer_list<std::string_view> params)
      : fn_(fn), params_(params), given_(params.size(), nullptr) {
    if (args.pos.size() > params_.size())
      throw ValueError(std::string(fn) + "() takes at most " + std::to_string(params_.size()) + " argument(s) (" +
                       std::to_string(args.pos.size()) + " given)");
    for (size_t i = 0; i < args.pos.size(); ++i) given_[i] = &args.pos[i];
    for (const auto& [k, v] : args.kw) {
      size_t i = 0;
      while (i < params_.size() && params_[i] != k) ++i;
      if (i == params_.size()) throw ValueError(std::string(fn) + "() got an unexpected keyword argument '" + k + "'");
      if (given_[i]) throw ValueError(std::string(fn) + "() got multiple values for argument '" + k + "'");
      given_[i] = &v;
    }
  }

  const Value* get(size_t i) const { return given_[i]; }
  bool has(size_t i) const { return given_[i] && !given_[i]->is_none(); }
  const Value& required(size_t i) const {
    if (!given_[i]) throw ValueError(fn_ + "() missing required argument '" + std::string(params_[i]) + "'");
    return *given_[i];
  }
  Value value_or(size_t i, Value dflt) const { return given_[i] ? *given_[i] : std::move(dflt); }
  bool boolean(size_t i, bool dflt) const { return given_[i] ? given_[i]->truthy() : dflt; }
  int64_t integer(size_t i, int64_t dflt) const {
    if (!has(i)) return dflt;
    if (!given_[i]->is_int() && !given_[i]->is_bool())
      throw ValueError(fn_ + "(): '" + std::string(params_[i]) + "' must be an integer, not " + given_[i]->type_name());
    return given_[i]->get_int();
  }
  std::string string(size_t i, std::string dflt) const {
    if (!has(i)) return dflt;
    if (!given_[i]->is_string())
      throw ValueError(fn_ + "(): '" + std::string(params_[i]) + "' must be a string, not " + given_[i]->type_name());
    return given_[i]->str();
  }

 private:
  std::string fn_;
  std::vector<std::string_view> params_;
  std::vector<const Value*> given_;
};

}  // namespace lmgen::chat
