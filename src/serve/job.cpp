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

StopReason Job::finish() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finish_.value_or(StopReason::Interrupted);
}

int64_t Job::n_generated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_generated_;
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
    n_generated_ = n_generated;
  }
  cv_.notify_all();
}

}  // namespace lmgen::serve
