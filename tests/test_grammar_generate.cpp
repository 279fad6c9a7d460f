// Grammar-constrained generation end to end (open-ended keys and strings are bounded in these schemas: a random
// model would fill the context with them): the tiny fixtures under 20+ JSON schemas at temperature 1 and several
// seeds (through --batch lines) always give JSON that python3-jsonschema accepts and end at end-of-generation;
// greedy output is byte-identical across thread counts and batch sizes; `lmgen grammar` exit codes and --jsonl;
// the server's response_format / json_schema / grammar fields.
#include <gtest/gtest.h>

#include <cmath>

#include "common.hpp"
#include "lmgen_run.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

const std::vector<std::string>& schemas() {
  static const std::vector<std::string> s = {
      R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}, "age": {"type": "integer", "minimum": 0, "maximum": 120}}, "required": ["name", "age"]})",
      R"({"type": "array", "items": {"type": "integer", "minimum": -50, "maximum": 50}, "minItems": 2, "maxItems": 4})",
      R"({"enum": ["red", "green", "blue", 7, null]})",
      R"({"const": {"ok": true}})",
      R"({"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"})",
      R"({"type": "string", "format": "date"})",
      R"({"type": "string", "format": "date-time"})",
      R"({"type": "string", "format": "uuid"})",
      R"({"type": "boolean"})",
      R"({"type": ["integer", "null"]})",
      R"({"type": "number"})",
      R"({"type": "string", "minLength": 3, "maxLength": 6})",
      R"({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "boolean"}}, "required": ["c"]}}, "required": ["b"]}}, "required": ["a"]})",
      R"({"type": "array", "prefixItems": [{"type": "integer"}, {"enum": ["x", "y"]}, {"type": "boolean"}]})",
      R"({"$defs": {"pt": {"type": "object", "properties": {"x": {"type": "integer", "maximum": 9, "minimum": 0}, "y": {"type": "integer", "maximum": 9, "minimum": 0}}, "required": ["x", "y"]}}, "type": "array", "items": {"$ref": "#/$defs/pt"}, "minItems": 1, "maxItems": 3})",
      R"({"anyOf": [{"type": "integer", "minimum": 1000}, {"type": "string", "maxLength": 2}]})",
      R"({"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}}, "required": ["kind"]}, {"type": "array", "maxItems": 0}]})",
      R"({"allOf": [{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}, {"properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}]})",
      R"({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3}, "note": {"type": "string", "maxLength": 8}}, "required": ["tags"]})",
      R"({"type": "object", "properties": {"k": {"type": "integer", "exclusiveMinimum": 5, "exclusiveMaximum": 9}}, "required": ["k"], "additionalProperties": false})",
      R"({"type": "string", "pattern": "^(yes|no|maybe)$"})",
      R"({"type": "object", "properties": {"v": {"enum": [1, 2, 3]}}, "required": ["v"], "additionalProperties": false, "maxProperties": 3})",
      R"({"type": "array", "items": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2}, "minItems": 1, "maxItems": 2})",
  };
  return s;
}

// Validates each (schema, text) pair with python3-jsonschema; returns "" or the failures.
std::string validate_with_jsonschema(const json& pairs) {
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
  const json bad = json::parse(r.out, nullptr, false);
  if (bad.is_discarded()) return "unreadable validator output: " + r.out;
  return bad.empty() ? "" : bad.dump(1);
}

void generate_under_schemas(const std::string& model) {
  std::string input;
  const std::vector<int> seeds = {1, 2, 3};
  for (const std::string& s : schemas())
    for (int seed : seeds)
      input += json{{"prompt", "Data:"}, {"seed", seed}, {"temp", 1.0}, {"json_schema", json::parse(s)}}.dump() + "\n";
  RunResult r = run_lmgen({"-m", model, "--batch", "-n", "1500", "--top-k", "0", "--top-p", "1", "--min-p", "0", "-q"},
                          300, input, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), schemas().size() * seeds.size());
  json pairs = json::array();
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_FALSE(lines[i].contains("error")) << lines[i].dump();
    EXPECT_EQ(lines[i]["stop_reason"], "eos") << "generation should end where the grammar does: " << lines[i].dump();
    pairs.push_back({{"schema", schemas()[i / seeds.size()]}, {"text", lines[i]["text"]}});
  }
  const std::string failures = validate_with_jsonschema(pairs);
  EXPECT_EQ(failures, "");
}

TEST(GrammarGenerate, TinyQwen2UnderTwentySchemasAlwaysValid) {
  generate_under_schemas(shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"));
}

TEST(GrammarGenerate, TinyLlamaUnderTwentySchemasAlwaysValid) {
  generate_under_schemas(shared_path("fixtures/tiny-llama/model-q8_0.gguf"));
}

TEST(GrammarGenerate, GreedyIsByteIdenticalAcrossThreadsAndBatchSizes) {
  const std::string model = shared_path("fixtures/tiny-qwen2/model-q8_0.gguf");
  const std::vector<std::string> base = {"-m", model, "-p", "List:", "--temp", "0", "-n", "200", "-q", "-j",
                                         schemas()[1]};
  std::vector<std::string> outs;
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{{"-t", "1"}, {"-t", "2"}, {"-t", "2", "-b", "1"}}) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_lmgen(args, 60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    outs.push_back(r.out);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
  EXPECT_FALSE(json::parse(outs[0], nullptr, false).is_discarded()) << outs[0];
}

TEST(GrammarGenerate, GrammarOptionOnPlainGeneration) {
  RunResult r = run_lmgen({"-m", stories_gguf(), "-p", "Once", "--grammar", "root ::= (\"yes\" | \"no\") \".\"",
                           "--temp", "1", "-s", "4", "-q"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(r.out == "yes." || r.out == "no.") << r.out;
}

// --n-probs shows the constrained distribution: after "Once" the model's favourite is " upon", which the grammar
// forbids; every reported token must continue the text inside the language, the chosen one is the most likely, and
// the probabilities are renormalised over the allowed tokens (all of them fit in 10 here, so they sum to ~1).
TEST(GrammarGenerate, NProbsShowTheConstrainedDistribution) {
  RunResult r = run_lmgen({"-m", stories_gguf(), "-p", "Once", "--grammar", "root ::= (\"yes\" | \"no\") \".\"",
                           "--temp", "0", "--n-probs", "10", "--jsonl"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_GE(lines.size(), 3u) << r.out;
  const std::string final_text = lines.back()["text"];
  ASSERT_TRUE(final_text == "yes." || final_text == "no.") << final_text;
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const json& ev = lines[i];
    const bool last = i + 2 == lines.size();  // the end-of-generation token
    double sum = 0.0;
    for (const json& t : ev["top"]) {
      sum += std::exp(t["logprob"].get<double>());
      const std::string cont = text + t["text"].get<std::string>();
      const bool in_language = !last && (std::string("yes.").rfind(cont, 0) == 0 || std::string("no.").rfind(cont, 0) == 0);
      EXPECT_TRUE(in_language || (last && t["token"] == ev["token"])) << "step " << i << ": " << t.dump();
    }
    EXPECT_EQ(ev["top"][0]["token"], ev["token"]) << ev.dump();
    EXPECT_DOUBLE_EQ(ev["top"][0]["logprob"].get<double>(), ev["logprob"].get<double>());
    EXPECT_LE(sum, 1.0 + 1e-5) << ev.dump();
    EXPECT_GE(sum, 0.999) << ev.dump();
    text += ev["text"].get<std::string>();
  }
}

TEST(GrammarCommand, PrintsCheckAndJsonl) {
  const std::string schema = R"({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})";
  RunResult r = run_lmgen({"grammar", "-j", schema});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.rfind("root ::= ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("space ::= | \" \" | \"\\n\" [ \\t]{0,20}"), std::string::npos) << r.out;

  r = run_lmgen({"grammar", "-j", schema, "--check", "-p", R"({"n": 5})"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  r = run_lmgen({"grammar", "-j", schema, "--check", "--jsonl"}, 20, R"({"n": "x"})", true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "{\"accepted\":false,\"at\":6}\n");
  EXPECT_EQ(r.err.rfind("lmgen: rejected at byte 6: expected ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("[1-9]"), std::string::npos) << r.err;
  r = run_lmgen({"grammar", "-j", schema, "--check", "--jsonl", "-p", R"({"n": 5})"});
  EXPECT_EQ(r.out, "{\"accepted\":true,\"at\":null}\n");

  const std::string gfile = write_scratch("check.gbnf", "root ::= [a-z]+\n");
  r = run_lmgen({"grammar", "--grammar-file", gfile, "--check", "-p", "abc1"});
  EXPECT_EQ(r.exit_code, 1);
  r = run_lmgen({"grammar", "--grammar", "root ::= undefined-rule", "--check", "-p", "x"});
  EXPECT_TRUE(clean_failure(r, 1, "1:10: undefined rule 'undefined-rule'"));
  EXPECT_EQ(r.out, "");
  r = run_lmgen({"grammar", "-j", R"({"type": "string", "not": {}})"});
  EXPECT_TRUE(clean_failure(r, 1, "unsupported keyword 'not'"));
  EXPECT_EQ(r.out, "");
}

// The file forms and --json: `lmgen grammar --json-schema-file` prints the GBNF of json-schema.org's "Product"
// example with one warning line per keyword the grammar cannot enforce (naming it and its path), --check reads -f
// FILE, and generation takes --json-schema-file and --json.
TEST(GrammarCommand, SchemaFileCheckFileAndJsonFlag) {
  const std::string product = LMGEN_SOURCE_DIR "/tests/data/product.schema.json";
  RunResult r = run_lmgen({"grammar", "--json-schema-file", product});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.rfind("root ::= ", 0), 0u) << r.out;
  EXPECT_EQ(r.err,
            "lmgen: warning: json schema: exclusiveMinimum at /properties/price: bounds on a non-integer number are not "
            "enforced by the grammar\n"
            "lmgen: warning: json schema: uniqueItems at /properties/tags: not enforced by the grammar\n");

  const std::string good = write_scratch("good.json", R"({"productId": 7, "productName": "Lamp", "price": 9.5})");
  const std::string bad = write_scratch("bad.json", R"({"productName": "Lamp", "productId": 7, "price": 9.5})");
  r = run_lmgen({"grammar", "--json-schema-file", product, "--check", "-f", good, "--jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "{\"accepted\":true,\"at\":null}\n");
  r = run_lmgen({"grammar", "--json-schema-file", product, "--check", "-f", bad, "--jsonl"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.out, "{\"accepted\":false,\"at\":9}\n");  // "product[N]ame": productId comes first

  const std::string model = shared_path("fixtures/tiny-qwen2/model-q8_0.gguf");
  const std::string small = write_scratch("small.json", schemas()[0]);
  r = run_lmgen({"-m", model, "-p", "Who?", "--json-schema-file", small, "--temp", "1", "-s", "5", "-n", "150", "-q"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  json value = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(value.is_object()) << r.out;
  EXPECT_TRUE(value.contains("name") && value["age"].is_number_integer()) << r.out;
  r = run_lmgen({"-m", model, "-p", "x", "--json", "--temp", "1", "-s", "2", "-n", "300", "-q"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(json::parse(r.out, nullptr, false).is_object()) << r.out;
}

// `lmgen chat` and a --batch line's "grammar" field are constrained too.
TEST(GrammarGenerate, ChatAndBatchGrammarField) {
  const std::string model = shared_path("fixtures/tiny-qwen2/model-q8_0.gguf");
  RunResult r = run_lmgen({"chat", "-m", model, "-j", schemas()[0], "--temp", "0", "-n", "150", "-q"}, 60, "Who?\n", true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const json value = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(value.is_object()) << r.out;
  EXPECT_TRUE(value.contains("name") && value.contains("age")) << r.out;

  const std::string input = json{{"prompt", "x"}, {"grammar", "root ::= [0-9]{3} \"!\""}, {"temp", 1}, {"seed", 4}}.dump() + "\n";
  r = run_lmgen({"-m", model, "--batch", "-n", "20", "-q"}, 60, input, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const std::string text = lines[0]["text"];
  ASSERT_EQ(text.size(), 4u) << text;
  EXPECT_EQ(text.find_first_not_of("0123456789"), 3u) << text;
  EXPECT_EQ(lines[0]["stop_reason"], "eos");
}

TEST(GrammarServe, ResponseFormatAndLlamaCppFields) {
  ServeProcess s({"-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf")});
  ASSERT_GT(s.port(), 0);
  const json schema = json::parse(schemas()[0]);
  const json chat = {{"messages", {{{"role", "user"}, {"content", "Who?"}}}}, {"max_tokens", 150}, {"temperature", 1},
                     {"seed", 3},
                     {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "p"}, {"schema", schema}, {"strict", true}}}}}};
  const json reply = post(s.port(), "/v1/chat/completions", chat).json();
  const std::string content = reply["choices"][0]["message"]["content"];
  const json value = json::parse(content, nullptr, false);
  ASSERT_FALSE(value.is_discarded()) << content;
  EXPECT_TRUE(value.contains("name") && value.contains("age")) << content;
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "stop");

  const json completion = post(s.port(), "/v1/completions",
                               {{"prompt", "x"}, {"max_tokens", 50}, {"temperature", 1}, {"grammar", "root ::= [0-9]{3}"}}).json();
  const std::string text = completion["choices"][0]["text"];
  EXPECT_EQ(text.size(), 3u) << text;
  EXPECT_EQ(text.find_first_not_of("0123456789"), std::string::npos) << text;

  const json obj = post(s.port(), "/v1/completions", {{"prompt", "x"}, {"max_tokens", 200}, {"temperature", 1},
                                                      {"response_format", {{"type", "json_object"}}}}).json();
  EXPECT_TRUE(json::parse(obj["choices"][0]["text"].get<std::string>(), nullptr, false).is_object()) << obj.dump();

  HttpReply bad = post(s.port(), "/v1/chat/completions",
                       {{"messages", {{{"role", "user"}, {"content", "x"}}}},
                        {"json_schema", {{"type", "object"}, {"if", json::object()}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unsupported keyword 'if'"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace lmgen::test
