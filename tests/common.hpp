// Helpers shared by the tests: where the shared material is, and small file readers.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lmgen::test {

// Root of the shared test material: env LMGEN_SHARED, else the CMake setting LMGEN_SHARED_DIR (../shared).
inline std::string shared_dir() {
  if (const char* e = std::getenv("LMGEN_SHARED"); e && *e) return e;
  return LMGEN_SHARED_DIR;
}

// Absolute path of a file under the shared material. A missing file is a test failure, never a silent skip.
inline std::string shared_path(const std::string& rel) {
  std::string p = shared_dir() + "/" + rel;
  if (!std::filesystem::exists(p)) ADD_FAILURE() << "shared test file missing: " << p << " (set LMGEN_SHARED)";
  return p;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

inline std::vector<float> read_f32_file(const std::string& path) {
  std::string b = read_file(path);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

// A scratch directory for the test's own files (the shared material is read-only).
inline std::string scratch_dir() {
  auto p = std::filesystem::temp_directory_path() / ("lmgen-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace lmgen::test
