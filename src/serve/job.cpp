// Job: the hand-over of events between the engine thread and the HTTP thread (job.hpp).
#include "serve/job.hpp"

namespace lmgen::serve {

bool Job::wait(std::vector<TokenEvent>& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || finish_.has_value(); });
  for (TokenEvent& e : events_) out.push_back(std::move(e));
  events_.clear();
  return finish_.has_value();
}

JobResult Job::result() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_;
}

void Job::started(int64_t n_reused) {
  std::lock_guard<std::mutex> lock(mu_);
  result_.n_reused = n_reused;
}

void Job::push(TokenEvent ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(ev));
  }
  cv_.notify_all();
}

void Job::mark_finished(StopReason r, int64_t n_generated) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finish_ = r;
    result_.finish = r;
    result_.n_generated = n_generated;
  }
  cv_.notify_all();
}

}  // namespace lmgen::serve
