// The progress bar of long commands (score, quantize, --batch, bench): one line on stderr, redrawn in place with
// '\r' at most ten times a second, showing done / total, rate and ETA, and erased when the work ends. Only used
// when stderr is a terminal and -q is not given (progress_wanted), so logs and pipes never see it.
#include <cstdio>

#include "cli/cli.hpp"

namespace lmgen::cli {

namespace {
std::string eta_text(double seconds) {
  char buf[32];
  if (seconds < 0 || seconds > 360000) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(bool enabled, std::string label, int64_t total, std::string unit, bool color)
    : enabled_(enabled), color_(color), label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  t0_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done, const std::string& detail) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && (total_ <= 0 || done < total_) && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - t0_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1;
  constexpr int kWidth = 24;
  const int fill = total_ > 0 ? static_cast<int>(kWidth * std::min<int64_t>(done, total_) / total_) : 0;
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(kWidth, '.');
  const char* on = color_ ? "\033[32m" : "";
  const char* off = color_ ? "\033[0m" : "";
  if (total_ <= 0) {  // total unknown (input still streaming in): count and rate only
    std::fprintf(stderr, "\r\033[K%s %lld %s, %.1f %s/s", label_.c_str(), static_cast<long long>(done), unit_.c_str(),
                 rate, unit_.c_str());
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  std::fprintf(stderr, "\r\033[K%s [%s%s%s] %lld/%lld %s%s%s, %.1f %s/s, ETA %s", label_.c_str(), on, bar.c_str(), off,
               static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(), detail.empty() ? "" : ", ",
               detail.c_str(), rate, unit_.c_str(), eta_text(eta).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace lmgen::cli
