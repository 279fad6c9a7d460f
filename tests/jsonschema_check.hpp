// Validating generated JSON against JSON schemas with python3-jsonschema (a test-only tool: tools/test.sh installs
// the Debian package), for the tests of schema-constrained generation and forced tool calls.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {

// Validates each {"schema": JSON text, "text": JSON text} pair with python3-jsonschema; returns "" or the failures.
inline std::string validate_with_jsonschema(const nlohmann::json& pairs) {
  const std::string data = write_scratch("grammar_pairs.json", pairs.dump());
  const std::string script = write_scratch("grammar_validate.py", R"(import json, sys
from jsonschema import Draft202012Validator
bad = []
for p in json.load(open(sys.argv[1])):
    try:
        value = json.loads(p["text"])
        errs = [e.message for e in Draft202012Validator(json.loads(p["schema"])).iter_errors(value)]
    except Exception as e:
        errs = ["not JSON: " + str(e)]
    if errs:
        bad.append({"schema": p["schema"], "text": p["text"], "errors": errs})
print(json.dumps(bad))
)");
  RunResult r = run_process("/usr/bin/python3", {script, data}, 120, "", false);
  if (r.exit_code != 0) return "python3 with jsonschema failed (tools/test.sh installs python3-jsonschema): " + r.err;
  const nlohmann::json bad = nlohmann::json::parse(r.out, nullptr, false);
  if (bad.is_discarded()) return "unreadable validator output: " + r.out;
  return bad.empty() ? "" : bad.dump(1);
}

}  // namespace lmgen::test
