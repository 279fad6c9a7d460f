// read_whole_file and read_file_head (read_file.hpp): open(2) and read(2), so every failure has an errno to tell.
#include "util/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "lmgen/error.hpp"

namespace lmgen {

std::string read_file_head(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } closer{fd};
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw Error(path, "is a directory, not a file");
  std::string out;
  char buf[65536];
  while (out.size() < max_bytes) {
    const ssize_t n = ::read(fd, buf, std::min(sizeof buf, max_bytes - out.size()));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return out;
    } else if (errno != EINTR) {
      throw Error(path, std::string("cannot read: ") + std::strerror(errno));
    }
  }
  return out;
}

std::string read_whole_file(const std::string& path) { return read_file_head(path, SIZE_MAX); }

}  // namespace lmgen
