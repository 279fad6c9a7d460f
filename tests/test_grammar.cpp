// src/grammar/: the GBNF parser (errors with line:column), the matcher (accept / reject lists, multi-byte code
// points, tokens that split them), the cross-check against llama.cpp's own validator, and the JSON schema converter
// (each keyword's accept / reject lists, warnings, refused keywords).
#include <gtest/gtest.h>

#include <filesystem>

#include "common.hpp"
#include "grammar/gbnf.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/matcher.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {
namespace {

bool accepts(const std::string& gbnf, const std::string& text) { return check_text(compile_gbnf(gbnf), text).accepted; }

std::string error_of(const std::string& gbnf) {
  try {
    compile_gbnf(gbnf);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Case {
  const char* grammar;
  std::vector<std::string> accept, reject;
};

const std::vector<Case>& matcher_cases() {
  static const std::vector<Case> cases = {
      {"root ::= \"ab\" | \"c\"", {"ab", "c"}, {"", "a", "abc", "b"}},
      {"root ::= [a-c]+ \"!\"?", {"a", "abc!", "cc"}, {"", "!", "ad", "a!!"}},
      {"root ::= [^a-c\\n]*", {"", "xyz", "é日😀"}, {"a", "x\n"}},
      {"root ::= . .", {"ab", "é😀", "\n\t"}, {"a", "abc"}},
      {"root ::= \"x\"{2,3}", {"xx", "xxx"}, {"x", "xxxx"}},
      {"root ::= \"x\"{2,}", {"xx", "xxxxx"}, {"x"}},
      {"root ::= \"x\"{0}", {""}, {"x"}},
      {"root ::= (\"a\" | \"b\"){3}", {"aba", "bbb"}, {"ab", "abab"}},
      {"root ::= \"\\x41\\u00e9\\U0001F600\\t\\\"\\\\\"", {"Aé😀\t\"\\"}, {"Ae"}},
      {"root ::= [\\u00e9-\\u00ff\\]]+", {"é", "]ÿ"}, {"e", "Ā"}},
      {"root ::= \"日本\" [語]", {"日本語"}, {"日本", "日本人"}},
      {"root ::= item (\",\" item)*\nitem ::= [0-9]+ # numbers\n", {"1", "12,3,45"}, {"1,", ",1", "a"}},
      {"root ::= (\n  \"a\"\n  | \"b\"\n)", {"a", "b"}, {"ab"}},
      {"root ::= x \"c\"\nx ::= \"a\"? \"b\"*", {"c", "ac", "abbc"}, {"a", "bac"}},
      {"root ::= \"a\"{3}{2}", {"aaaaaa"}, {"aaa"}},
  };
  return cases;
}

TEST(GrammarMatcher, AcceptAndRejectLists) {
  for (const Case& c : matcher_cases()) {
    for (const std::string& s : c.accept) EXPECT_TRUE(accepts(c.grammar, s)) << c.grammar << " should accept [" << s << "]";
    for (const std::string& s : c.reject) EXPECT_FALSE(accepts(c.grammar, s)) << c.grammar << " should reject [" << s << "]";
  }
}

TEST(GrammarMatcher, TokensThatSplitACodePoint) {
  auto g = std::make_shared<const grammar::Grammar>(grammar::parse_gbnf("root ::= \"a\" [é日] \"b\""));
  grammar::Matcher m(g);
  const std::string ri = "a\xE6\x97\xA5" "b";  // a 日 b, fed as tokens "a\xE6", "\x97", "\xA5b"
  grammar::MatchState st = m.start();
  ASSERT_TRUE(m.accept(st, ri.substr(0, 2)));
  EXPECT_FALSE(m.complete(st));
  EXPECT_EQ(st.partial_left, 2);
  ASSERT_TRUE(m.accept(st, ri.substr(2, 1)));
  ASSERT_TRUE(m.accept(st, ri.substr(3)));
  EXPECT_TRUE(m.complete(st));
  // A lead byte no allowed character starts with is refused at once, before its character completes.
  grammar::MatchState st2 = m.start();
  ASSERT_TRUE(m.accept(st2, "a"));
  EXPECT_FALSE(m.accept(st2, "\xF0"));  // 4-byte characters: none in [é日]
  // Overlong and surrogate encodings are not characters.
  for (const char* bad : {"a\xC1\xA9", "a\xE0\x80\xA9", "a\xED\xA0\x80"}) {
    grammar::MatchState s3 = m.start();
    EXPECT_FALSE(m.accept(s3, bad)) << bad;
  }
}

TEST(GrammarParser, ErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("root ::= \"a\"\nfoo ::= \"b\" bar\n"), "grammar: 2:13: undefined rule 'bar'");
  EXPECT_EQ(error_of("rot ::= \"a\"\n"), "grammar: 1:1: the grammar has no rule named 'root'");
  EXPECT_EQ(error_of("root ::= \"a\"\nexpr ::= expr \"+\" \"1\" | \"1\"\n"), "grammar: 2:1: left recursion in rule 'expr'");
  EXPECT_EQ(error_of("root ::= \"a\" \"b\n"), "grammar: 2:1: unexpected end of input in a literal");
  EXPECT_EQ(error_of("root ::= [a-z\n"), "grammar: 2:1: unexpected end of input in a character class");
  EXPECT_NE(error_of("root ::= \"\\q\"").find("1:11: unknown escape"), std::string::npos);
  EXPECT_NE(error_of("root ::= * \"a\"").find("1:10:"), std::string::npos);
  EXPECT_NE(error_of("root := \"a\"").find("1:6: expected ::="), std::string::npos);
  EXPECT_NE(error_of("root ::= (\"a\"").find("expected ')'"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{3,1}").find("n < m"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{5000}").find("above 2000"), std::string::npos);
  EXPECT_NE(error_of("").find("no rule named 'root'"), std::string::npos);
}

TEST(GrammarCheck, ReportsOffsetAndExpected) {
  auto g = compile_gbnf("root ::= \"{\" [0-9]+ \"}\"");
  GrammarCheck r = check_text(g, "{12x}");
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.at, 3u);
  EXPECT_EQ(r.expected, (std::vector<std::string>{"\"}\"", "[0-9]"}));
  r = check_text(g, "{1");
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.at, 2u);
  r = check_text(compile_gbnf("root ::= \"a\" \"é\""), "a\xC3\xA8");  // è: rejected at the character's first byte
  EXPECT_EQ(r.at, 1u);
}

// The same pairs through llama.cpp b4748's llama-gbnf-validator (part of the shared material): both must agree.
TEST(GrammarMatcher, AgreesWithLlamaCppValidator) {
  const std::string validator = shared_path("bench/llama.cpp-b4748/quantize/llama-gbnf-validator");
  ASSERT_TRUE(std::filesystem::exists(validator)) << validator;
  int n = 0;
  for (const Case& c : matcher_cases()) {
    const std::string gpath = write_scratch("oracle.gbnf", std::string(c.grammar) + "\n");
    for (const auto* list : {&c.accept, &c.reject})
      for (const std::string& s : *list) {
        if (s.empty()) continue;  // the validator cannot read an empty file
        const std::string ipath = write_scratch("oracle.txt", s);
        RunResult r = run_process(validator, {gpath, ipath}, 30, "", false);
        ASSERT_FALSE(r.signaled) << c.grammar;
        const bool theirs = r.out.find("is valid") != std::string::npos;
        EXPECT_EQ(theirs, accepts(c.grammar, s)) << c.grammar << " on [" << s << "]: " << r.out;
        ++n;
      }
  }
  EXPECT_GT(n, 40);
}

// ---- JSON schema -> GBNF ----

bool schema_accepts(const std::string& schema, const std::string& text) {
  return accepts(json_schema_to_gbnf(schema), text);
}

struct SchemaCase {
  const char* schema;
  std::vector<std::string> accept, reject;
};

TEST(JsonSchema, EachKeywordAcceptsAndRejects) {
  const std::vector<SchemaCase> cases = {
      {R"({"type": "string"})", {R"("")", R"("a\"b\u00e9")", R"("x" )"}, {"x", R"("a)", "1"}},
      {R"({"type": ["integer", "null"]})", {"0", "-12", "null"}, {"1.5", "01", R"("1")"}},
      {R"({"type": "number"})", {"1", "-0.5", "1e10", "2.5E-3"}, {".5", "1.", "+1"}},
      {R"({"type": "boolean"})", {"true", "false"}, {"True", "1"}},
      {R"({"enum": ["red", 1, null, {"a": 1}]})", {R"("red")", "1", "null", R"({"a":1})"}, {R"("blue")", "2"}},
      {R"({"const": "x"})", {R"("x")"}, {R"("y")"}},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a"]})",
       {R"({"a": 1})", R"({"a": 1, "b": "x"})", "{\n  \"a\":2\n}"}, {R"({"b": "x", "a": 1})", R"({})", R"({"a": 1, "c": 2})"}},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "integer"}})",
       {R"({"a": 1, "z": 2})", "{}", R"({"z": 3})"}, {R"({"z": "s"})", R"({"a": 1, "a": "x"})"}},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": true})",
       {R"({"a": 1, "z": [1]})"}, {R"({"a": "x"})"}},
      {R"({"type": "object"})", {"{}", R"({"k": [1, {"x": null}]})"}, {"[]"}},
      {R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})",
       {"[1]", "[1, 2, 3]"}, {"[]", "[1,2,3,4]", R"(["a"])"}},
      {R"({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]})", {R"([1, "a"])"}, {"[1]", R"(["a", 1])"}},
      {R"({"type": "string", "minLength": 2, "maxLength": 3})", {R"("ab")", R"("abc")", R"("\n\t")"}, {R"("a")", R"("abcd")"}},
      {R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"})", {R"("AB-123")"}, {R"("AB-12")", R"("ab-123")"}},
      {R"({"type": "string", "pattern": "^(foo|ba+r)?$"})", {R"("")", R"("foo")", R"("baaar")"}, {R"("fo")"}},
      {R"({"type": "string", "pattern": "x\\.y"})", {R"("x.y")", R"("aax.ybb")"}, {R"("xzy")"}},
      {R"({"type": "string", "format": "date"})", {R"("2024-02-29")"}, {R"("2024-13-01")", R"("24-01-01")"}},
      {R"({"type": "string", "format": "time"})", {R"("23:59:59Z")", R"("01:02:03.456+05:30")"}, {R"("24:00:00Z")"}},
      {R"({"type": "string", "format": "date-time"})", {R"("2024-01-02T03:04:05Z")"}, {R"("2024-01-02 03:04:05Z")"}},
      {R"({"type": "string", "format": "uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"}, {R"("123e4567")"}},
      {R"({"type": "integer", "minimum": -5, "maximum": 27})", {"-5", "0", "9", "27"}, {"-6", "28", "100", "-10"}},
      {R"({"type": "integer", "exclusiveMinimum": 9, "exclusiveMaximum": 100})", {"10", "99"}, {"9", "100"}},
      {R"({"type": "integer", "minimum": 120})", {"120", "999", "12345"}, {"119", "-1", "0"}},
      {R"({"type": "integer", "maximum": -3})", {"-3", "-40"}, {"-2", "0", "5"}},
      {R"({"$defs": {"n": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/$defs/n"}})", {"[1, 2]"}, {R"(["x"])"}},
      {R"({"definitions": {"t": {"type": "object", "properties": {"c": {"type": "array", "items": {"$ref": "#/definitions/t"}}}}}, "$ref": "#/definitions/t"})",
       {R"({"c": [{"c": []}, {}]})"}, {R"({"c": [1]})"}},
      {R"({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]})", {"1", R"("a")"}, {R"("ab")", "null"}},
      {R"({"oneOf": [{"const": 1}, {"const": 2}]})", {"1", "2"}, {"3"}},
      {R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]})",
       {R"({"a": 1, "b": true})"}, {R"({"a": 1})", R"({"b": true})"}},
      {"true", {"1", R"({"a": [null]})"}, {"nul"}},
  };
  for (const SchemaCase& c : cases) {
    std::string gbnf;
    ASSERT_NO_THROW(gbnf = json_schema_to_gbnf(c.schema)) << c.schema;
    for (const std::string& s : c.accept) EXPECT_TRUE(accepts(gbnf, s)) << c.schema << " should accept " << s << "\n" << gbnf;
    for (const std::string& s : c.reject) EXPECT_FALSE(accepts(gbnf, s)) << c.schema << " should reject " << s << "\n" << gbnf;
  }
}

TEST(JsonSchema, WhitespaceIsLlamaCppRule) {
  const std::string s = R"({"type": "array", "items": {"type": "integer"}})";
  EXPECT_TRUE(schema_accepts(s, "[\n" + std::string(20, ' ') + "1]"));
  EXPECT_FALSE(schema_accepts(s, "[\n" + std::string(21, ' ') + "1]"));
  EXPECT_FALSE(schema_accepts(s, "[  1]"));  // one space, or a newline and indentation
}

TEST(JsonSchema, ProductExampleWorksWithWarnings) {
  // json-schema.org's "Product" example (tests/data/product.schema.json).
  const std::string product = read_file(LMGEN_SOURCE_DIR "/tests/data/product.schema.json");
  std::vector<std::string> warnings;
  const std::string gbnf = json_schema_to_gbnf(product, &warnings);
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "exclusiveMinimum at /properties/price: bounds on a non-integer number are not enforced by the grammar",
                          "uniqueItems at /properties/tags: not enforced by the grammar"}));
  EXPECT_TRUE(accepts(gbnf, R"({"productId": 1, "productName": "A", "price": 12.5, "tags": ["x"], "dimensions": {"length": 1, "width": 2.5, "height": 3}})"));
  EXPECT_FALSE(accepts(gbnf, R"({"productId": 1, "productName": "A", "price": 12.5, "tags": []})"));
}

// Keywords that only narrow the language warn with their path (here below items); annotations say nothing.
TEST(JsonSchema, NarrowingKeywordsWarnWithTheirPath) {
  std::vector<std::string> warnings;
  const std::string gbnf = json_schema_to_gbnf(
      R"({"title": "t", "type": "array", "items": {"type": "integer", "multipleOf": 3, "default": 3, "examples": [3]},
          "contains": {"const": 3}})",
      &warnings);
  EXPECT_EQ(warnings, (std::vector<std::string>{"contains at /: not enforced by the grammar",
                                                "multipleOf at /items: not enforced by the grammar"}));
  EXPECT_TRUE(accepts(gbnf, "[4, 3]"));
}

TEST(JsonSchema, UnknownKeywordsAreErrorsNamingThem) {
  for (const auto& [schema, name] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type": "string", "not": {"const": "a"}})", "'not' at /"},
           {R"({"if": {"type": "string"}, "then": {"minLength": 1}})", "'if' at /"},
           {R"({"type": "object", "patternProperties": {"^a": {}}})", "'patternProperties' at /"},
           {R"({"type": "object", "properties": {"a": {"type": "string", "maxLenght": 3}}})", "'maxLenght' at /properties/a"},
           {R"({"$ref": "https://example.com/x.json"})", "$ref 'https://example.com/x.json' is not local"},
           {R"({"$ref": "#/$defs/missing"})", "points at nothing"},
           {R"({"type": "strin"})", "unknown type 'strin'"},
       }) {
    try {
      json_schema_to_gbnf(schema);
      ADD_FAILURE() << "accepted " << schema;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("json schema: ", 0), 0u) << e.what();
    }
  }
}

TEST(JsonSchema, PropertiesInSchemaOrderRequiredFirst) {
  const std::string s = R"({"type": "object", "properties": {"z": {"type": "integer"}, "a": {"type": "integer"},
                           "m": {"type": "integer"}}, "required": ["m"]})";
  EXPECT_TRUE(schema_accepts(s, R"({"m": 1, "z": 2, "a": 3})"));
  EXPECT_TRUE(schema_accepts(s, R"({"m": 1, "a": 3})"));
  EXPECT_FALSE(schema_accepts(s, R"({"m": 1, "a": 3, "z": 2})"));
  EXPECT_FALSE(schema_accepts(s, R"({"z": 2, "m": 1})"));
}

TEST(JsonSchema, ToolCallFrame) {
  grammar::SchemaGrammar g = grammar::schema_text_to_gbnf(
      R"({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})",
      {"<tool_call>{\"name\": \"weather\", \"arguments\": ", "}</tool_call>"});
  EXPECT_TRUE(accepts(g.gbnf, R"(<tool_call>{"name": "weather", "arguments": {"city": "Oslo"}}</tool_call>)"));
  EXPECT_FALSE(accepts(g.gbnf, R"({"city": "Oslo"})"));
}

}  // namespace
}  // namespace lmgen::test
