// Lookup of the built-in names of the template language: filters (filters.cpp), tests (tests.cpp), global
// functions (globals.cpp) and Python methods of str / dict / list (methods.cpp). Each returns null / false for an
// unknown name.
#pragma once

#include <string_view>

#include "chat/ast.hpp"
#include "chat/value.hpp"

namespace lmgen::chat {

FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
Value find_global(std::string_view name);  // undefined if there is no such global

// Python attribute access `obj.name` for str, dict, list and the loop object. Returns a bound method or the
// attribute's value; undefined when the object has no such attribute. Throws ValueError for attributes the
// immutable sandbox refuses (list.append, dict.update, dunders).
bool has_method(const Value& obj, std::string_view name);
Value call_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args);

}  // namespace lmgen::chat
