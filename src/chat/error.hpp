// lmgen::chat::TemplateError — every failure of a chat template: syntax errors, runtime errors, exceeded limits
// and raise_exception(). The message is one line: "chat template:LINE:COLUMN: what".
#pragma once

#include <string>

#include "lmgen/error.hpp"

namespace lmgen::chat {

class TemplateError : public Error {
 public:
  TemplateError(int line, int column, const std::string& what)
      : Error("chat template:" + std::to_string(line) + ":" + std::to_string(column) + ": " + what),
        line_(line),
        column_(column),
        message_(what) {}
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }  // without the location prefix

 private:
  int line_, column_;
  std::string message_;
};

}  // namespace lmgen::chat
