// Job: the hand-over of events between the engine thread and the HTTP thread (job.hpp).
#include "serve/job.hpp"

namespace lmgen::serve {

const char* finish_name(Finish f) {
  switch (f) {
    case Finish::Stop: return "stop";
    case Finish::Length: return "length";
    case Finish::Cancelled: return "cancelled";
    case Finish::Running: break;
  }
  return "running";
}

bool Job::wait(std::vector<TokenOut>& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || finish_ != Finish::Running; });
  for (TokenOut& e : events_) out.push_back(std::move(e));
  events_.clear();
  return finish_ != Finish::Running;
}

Finish Job::finish() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finish_;
}

int64_t Job::n_generated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_generated_;
}

void Job::push(TokenOut ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(ev));
  }
  cv_.notify_all();
}

void Job::mark_finished(Finish f, int64_t n_generated) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finish_ = f;
    n_generated_ = n_generated;
  }
  cv_.notify_all();
}

}  // namespace lmgen::serve
