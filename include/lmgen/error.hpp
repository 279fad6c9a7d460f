// lmgen::Error — the one exception type the engine throws.
//
// Library code never prints and never exits: it throws an Error that says what went wrong and, where there is
// one, which file. Only the command-line front end (src/cli/main.cpp) turns it into a one-line message on stderr and
// an exit status (UsageError -> 2, any other Error -> 1).
#pragma once

#include <stdexcept>
#include <string>

namespace lmgen {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  // "PATH: what" — for problems with a particular file.
  Error(const std::string& path, const std::string& what) : std::runtime_error(path + ": " + what) {}
};

// A mistake on the command line or in options passed to the library (exit status 2 at the CLI).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what) {}
};

// A model whose tokenizer is not inside it and was not found beside it (a llama2.c checkpoint without
// LoadOptions::tokenizer_path, and no tokenizer.bin or single tok*.bin in its directory): the caller must name the
// tokenizer file (exit status 2 at the CLI).
class MissingTokenizer : public UsageError {
 public:
  MissingTokenizer(const std::string& path, const std::string& what) : UsageError(path + ": " + what) {}
};

// A LoRA adapter that cannot be applied to the model as asked: a target the model does not have, a shape that does
// not match, or a PEFT option lmgen does not implement (exit status 1 at the CLI, like any Error).
class AdapterError : public Error {
 public:
  AdapterError(const std::string& path, const std::string& what) : Error(path, what) {}
};

}  // namespace lmgen
