// Reading a whole input file (JSON, a chat template, a tokenizer file) with errors that name it in lmgen's words.
// (The standard streams either fail silently or throw their own text: reading /proc/self/mem through an
// istreambuf_iterator threw "basic_filebuf::underflow error reading the file".)
#pragma once

#include <string>

namespace lmgen {

// The bytes of `path`. Throws Error("PATH: cannot open: REASON") / ("PATH: cannot read: REASON"); a directory
// is "PATH: is a directory, not a file".
std::string read_whole_file(const std::string& path);
// At most the first `max_bytes` of `path` (to tell a format by its start), with the same errors.
std::string read_file_head(const std::string& path, size_t max_bytes);

}  // namespace lmgen
