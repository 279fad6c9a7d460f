// The server's counters in Prometheus' text exposition format (version 0.0.4), for GET /metrics: one "# HELP" and
// "# TYPE" line per metric, then its sample. Counters end in _total; rates are left to the scraper, except the
// decoding speed, given as a gauge for a reader without one.
#pragma once

#include <string>

#include "serve/engine.hpp"

namespace lmgen::serve {

std::string prometheus_text(const Engine::Stats& st);

}  // namespace lmgen::serve
