// Unit tests of the chat-template engine (src/chat/): one small template per feature with hand-written expected
// text, error messages with line:column, undefined semantics, the sandbox, and the Limits that keep untrusted
// templates bounded (nesting, loop iterations, output size, string repetition).
#include <gtest/gtest.h>

#include <string>

#include "chat/template.hpp"

namespace {

using lmgen::chat::ChatTemplate;
using lmgen::chat::Limits;
using lmgen::chat::RenderOptions;
using lmgen::chat::TemplateError;
using Json = nlohmann::ordered_json;

std::string render(const std::string& tpl, const Json& ctx = Json::object(), Limits limits = {}) {
  RenderOptions opt;
  opt.strftime_now = [](const std::string&) { return std::string("26 Jul 2024"); };
  return ChatTemplate(tpl, limits).render(ctx, opt);
}

// The message of the TemplateError that rendering (or parsing) throws; "" if nothing is thrown.
std::string error_of(const std::string& tpl, const Json& ctx = Json::object(), Limits limits = {}) {
  try {
    render(tpl, ctx, limits);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

const Json kMessages = Json::parse(R"({"messages": [{"role": "system", "content": "S"},
  {"role": "user", "content": "Hi"}, {"role": "assistant", "content": " A "}], "bos_token": "<s>"})");

TEST(ChatTemplate, PlainTextAndVariables) {
  EXPECT_EQ(render("hello"), "hello");
  EXPECT_EQ(render("{{ bos_token }}{{ messages[1].content }}", kMessages), "<s>Hi");
  EXPECT_EQ(render("a\n"), "a");  // one trailing newline is dropped, as jinja2 does
  EXPECT_EQ(render("a\n\n"), "a\n");
}

TEST(ChatTemplate, WhitespaceControl) {
  EXPECT_EQ(render("{% if true %}\nA\n{% endif %}\nB"), "A\nB");                  // trim_blocks
  EXPECT_EQ(render("x\n    {% if true %}\n    y\n    {% endif %}\nz"), "x\n    y\nz");  // lstrip_blocks
  EXPECT_EQ(render("x\n  {{ 'v' }}"), "x\n  v");                                    // not for {{
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(render("x\n  {%+ if true +%}\ny{% endif %}"), "x\n  \ny");
  EXPECT_EQ(render("a\n  {# c #}\nb"), "a\nb");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
  EXPECT_EQ(render("a\r\nb"), "a\nb");
}

TEST(ChatTemplate, PythonPrinting) {
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.5] }}"), "[1, 'a', None, True, 1.5]");
  EXPECT_EQ(render("{{ {'k': True, 'l': [\"it's\"]} }}"), "{'k': True, 'l': [\"it's\"]}");
  EXPECT_EQ(render("{{ 1.0 }} {{ 1e16 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ (1,) }}"), "1.0 1e+16 1e-05 0.30000000000000004 (1,)");
  EXPECT_EQ(render("[{{ none }}][{{ undefined_name }}]"), "[None][]");
}

TEST(ChatTemplate, Arithmetic) {
  EXPECT_EQ(render("{{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}"),
            "3.5 2.0 3 -4 2 1024 0.5");
  EXPECT_EQ(render("{{ [1] + [2] }} {{ 'a' + 'b' }} {{ 'ab' * 2 }} {{ 1 ~ 'x' ~ none }}"), "[1, 2] ab abab 1xNone");
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 2 > 1 > 1 }} {{ 1 == 1.0 }} {{ 'a' in 'cat' }} {{ 3 not in [3] }}"),
            "True False True True False");
  EXPECT_EQ(render("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ not [] }} {{ 'y' if 0 else 'n' }}[{{ 'y' if 0 }}]"),
            "x b True n[]");
}

TEST(ChatTemplate, LookupAndSlicing) {
  EXPECT_EQ(render("{{ messages[1].role }}{{ messages[1]['role'] }}{{ messages[-1].content }}", kMessages), "useruser A ");
  EXPECT_EQ(render("{{ messages[1:]|length }} {{ [1,2,3,4][::-2] }} {{ 'h\xc3\xa9llo'[1:3] }}", kMessages),
            "2 [4, 2] \xc3\xa9l");
  EXPECT_EQ(render("[{{ messages[7] }}][{{ messages[0].nope }}]", kMessages), "[][]");
}

TEST(ChatTemplate, Loops) {
  EXPECT_EQ(render("{% for m in messages %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
                   kMessages),
            "1TrueFalse3;2FalseFalse3;3FalseTrue3;");
  EXPECT_EQ(render("{% for x in [1,2,3] %}{{ loop.revindex }}{{ loop.previtem }}{{ loop.cycle('a','b') }}{% endfor %}"),
            "3a21b12a");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}", kMessages),
            "1user2assistant");
  EXPECT_EQ(render("{% for i in range(9) %}{% if i == 1 %}{% continue %}{% elif i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
            "023");
  EXPECT_EQ(render("{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}"), "a1");
}

TEST(ChatTemplate, ScopingAndNamespace) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "21");
  EXPECT_EQ(render("{% if true %}{% set y = 3 %}{% endif %}{{ y }}"), "3");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in [1,2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "3");
  EXPECT_EQ(render("{% set b %}x{{ 1 }}{% endset %}[{{ b }}]"), "[x1]");
}

TEST(ChatTemplate, Macros) {
  EXPECT_EQ(render("{% macro f(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ f(1) }}{{ f(2, b=3) }}{{ f(b=4, a=5) }}"),
            "1B2354");
  EXPECT_EQ(render("{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}"), "<in>");
  EXPECT_EQ(render("{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}"), "321");
}

TEST(ChatTemplate, Filters) {
  EXPECT_EQ(render("{{ ' a '|trim }}{{ 'ab'|upper }}{{ 'AB'|lower }}{{ 'a b'|title }}{{ 'aB'|capitalize }}"), "aABabA BAb");
  EXPECT_EQ(render("{{ 'aa'|replace('a', 'b') }} {{ [1,2]|join('-') }} {{ 'ab'|list }} {{ [3,1,2]|sort }} {{ [1,1]|unique|list }}"),
            "bb 1-2 ['a', 'b'] [1, 2, 3] [1]");
  EXPECT_EQ(render("{{ x|default('d') }} {{ ''|default('d', true) }} {{ [1,2]|first }} {{ [1,2]|last }} {{ -1|abs }}"), "d d 1 2 1");
  EXPECT_EQ(render("{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}", kMessages),
            "['Hi']");
  EXPECT_EQ(render("{{ 'a\nb'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}"), "a\n  b|  a\n  b");
  EXPECT_EQ(render("{{ {'b': 1, 'a': 2}|dictsort }} {{ {'a': 1}|items|list }}"), "[('a', 2), ('b', 1)] [('a', 1)]");
  EXPECT_EQ(render("{{ '3'|int + 1 }} {{ 'x'|float }} {{ 2.567|round(2) }} {{ [1,2]|sum }} {{ [4,5]|max }}"), "4 0.0 2.57 3 5");
  EXPECT_EQ(render("{{ '<a>'|e }} {{ '<b>'|safe + '<c>' }}"), "&lt;a&gt; <b>&lt;c&gt;");
}

TEST(ChatTemplate, ToJson) {
  EXPECT_EQ(render("{{ {'a': [1, 2.5, none, true], 'b': 'caf\xc3\xa9 \"q\"\n'}|tojson }}"),
            "{\"a\": [1, 2.5, null, true], \"b\": \"caf\xc3\xa9 \\\"q\\\"\\n\"}");
  EXPECT_EQ(render("{{ {'a': [1]}|tojson(indent=2) }}"), "{\n  \"a\": [\n    1\n  ]\n}");
  EXPECT_EQ(render("{{ 'caf\xc3\xa9'|tojson(ensure_ascii=true) }}"), "\"caf\\u00e9\"");
  EXPECT_EQ(render("{{ messages[0]|tojson }}", kMessages), "{\"role\": \"system\", \"content\": \"S\"}");
}

TEST(ChatTemplate, Tests) {
  EXPECT_EQ(render("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}"),
            "FalseTrueTrueTrueTrue");
  EXPECT_EQ(render("{{ 3 is odd }}{{ 3 is even }}{{ 9 is divisibleby 3 }}{{ 1 is number }}{{ 1.0 is integer }}"),
            "TrueFalseTrueTrueFalse");
  EXPECT_EQ(render("{{ 2 is equalto 2 }}{{ 2 is ne 2 }}{{ 1 is in [1] }}{{ 'ab' is lower }}{{ range is callable }}"),
            "TrueFalseTrueTrueTrue");
}

TEST(ChatTemplate, StringAndDictMethods) {
  EXPECT_EQ(render("{{ ' x '.strip() }}{{ 'xax'.strip('x') }}{{ 'a,b'.split(',') }}{{ 'a b c'.split(' ', 1) }}"),
            "xa['a', 'b']['a', 'b c']");
  EXPECT_EQ(render("{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'abc'.find('c') }}{{ '-'.join(['a','b']) }}"),
            "TrueTrue2a-b");
  EXPECT_EQ(render("{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 'z') }}{{ {'a': 1}.keys()|list }}{{ [1, 2].index(2) }}"),
            "1z['a']1");
  EXPECT_EQ(render("{{ '{} {x}'.format(1, x=2) }}"), "1 2");
}

TEST(ChatTemplate, Globals) {
  EXPECT_EQ(render("{{ range(3)|list }}{{ strftime_now('%d %b %Y') }}"), "[0, 1, 2]26 Jul 2024");
  EXPECT_EQ(render("{{ dict(a=1) }}"), "{'a': 1}");
  // Without an injected clock strftime_now formats the real local time.
  EXPECT_EQ(ChatTemplate("{{ strftime_now('%Y')|length }}").render(Json::object()), "4");
}

TEST(ChatTemplateErrors, CarryLineAndColumn) {
  EXPECT_EQ(error_of("line one\n{{ 'x'|foo }}"), "chat template:2:8: unknown filter 'foo'");
  EXPECT_EQ(error_of("{% if x %}\n  {{ x is nope }}"), "chat template:2:11: unknown test 'nope'");
  EXPECT_EQ(error_of("\n\n  {{ raise_exception('System role not supported') }}"),
            "chat template:3:6: raise_exception: System role not supported");
  EXPECT_EQ(error_of("{% if true %}\nx"), "chat template:2:2: unexpected end of template, expected 'elif'");
  EXPECT_EQ(error_of("{{ 1 +  }}"), "chat template:1:9: expected an expression");
  EXPECT_EQ(error_of("{% include 'x' %}"), "chat template:1:4: unknown tag 'include'");
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "chat template:1:4: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("{{ x }"), "chat template:1:6: unexpected '}'");
  EXPECT_EQ(error_of("{# open"), "chat template:1:1: missing end of comment tag");
}

TEST(ChatTemplateErrors, UndefinedSemantics) {
  EXPECT_EQ(render("[{{ x }}][{{ x|length }}][{% for i in x %}{% endfor %}][{{ x ~ 'a' }}][{{ not x }}]"), "[][0][][a][True]");
  EXPECT_EQ(error_of("{{ x.y }}"), "chat template:1:5: 'x' is undefined");
  EXPECT_EQ(error_of("{{ messages[0].nope.deeper }}", kMessages),
            "chat template:1:20: 'dict object' has no attribute 'nope'");
  EXPECT_EQ(error_of("{{ x + 1 }}"), "chat template:1:4: 'x' is undefined");
  EXPECT_EQ(error_of("{{ x() }}"), "chat template:1:4: 'x' is undefined");
  EXPECT_EQ(error_of("{{ x|tojson }}"), "chat template:1:6: Object of type Undefined is not JSON serializable");
}

TEST(ChatTemplateErrors, Sandbox) {
  EXPECT_EQ(error_of("{% set l = [1] %}{{ l.append(2) }}"),
            "chat template:1:22: access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_EQ(error_of("{{ {}.update({'a': 1}) }}"), "chat template:1:6: access to attribute 'update' of 'dict' object is unsafe.");
  EXPECT_NE(error_of("{{ messages.__class__ }}", kMessages), "");
  EXPECT_NE(error_of("{{ ''.__class__.__mro__ }}"), "");
  EXPECT_NE(error_of("{% set ns = namespace() %}{% set ns.me = ns %}"), "");  // no cycles through namespaces
}

TEST(ChatTemplateLimits, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(render(std::string(100000, '(')), std::string(100000, '('));  // text, not an expression
  EXPECT_NE(error_of("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}"), "");
  EXPECT_NE(error_of("{{ " + std::string(100000, '[') + " }}"), "");
  EXPECT_NE(error_of("{{ " + std::string(50000, '-') + "1 }}"), "");
  EXPECT_NE(error_of("{{ " + std::string(50000, 'x') + " }}{{ " + [] {
              std::string s = "x";
              for (int i = 0; i < 20000; ++i) s += "|trim";
              return s;
            }() + " }}"),
            "");
  std::string blocks;
  for (int i = 0; i < 10000; ++i) blocks += "{% if true %}";
  EXPECT_NE(error_of(blocks), "");
  std::string ok;
  for (int i = 0; i < 30; ++i) ok += "{% if true %}";
  ok += "x";
  for (int i = 0; i < 30; ++i) ok += "{% endif %}";
  EXPECT_EQ(render(ok), "x");
  // A long flat chain is not deep.
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_EQ(render(chain + " }}"), "5001");
}

TEST(ChatTemplateLimits, MacroRecursion) {
  const std::string err = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(err.find("nested deeper than"), std::string::npos) << err;
  // Exponential fan-out is stopped by the call budget.
  Limits l;
  l.max_loop_iterations = 10000;
  EXPECT_NE(error_of("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
                     Json::object(), l),
            "");
}

TEST(ChatTemplateLimits, LoopsOutputAndRepetition) {
  Limits l;
  l.max_loop_iterations = 1000;
  EXPECT_EQ(render("{% for i in range(999) %}{% endfor %}x", Json::object(), l), "x");
  EXPECT_NE(error_of("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", Json::object(), l), "");
  EXPECT_NE(error_of("{{ range(100001)|length }}"), "");
  EXPECT_NE(error_of("{{ 'a' * 10**9 }}"), "");
  EXPECT_NE(error_of("{{ [1] * 10**9 }}"), "");
  EXPECT_NE(error_of("{{ 2 ** 100 }}"), "");  // beyond 64 bits: refused, never wrapped
  Limits small;  // small limits keep the test fast; the defaults are the same code with bigger numbers
  small.max_output_bytes = 1000;
  small.max_list_items = 1000;
  small.max_loop_iterations = 10000;
  EXPECT_NE(error_of("{% for i in range(200) %}xxxxxxxxxx{% endfor %}", Json::object(), small), "");
  EXPECT_NE(error_of("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                     Json::object(), small),
            "");
  EXPECT_NE(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
                     Json::object(), small),
            "");
  // A value whose shared parts multiply (each level doubles) is bounded too.
  EXPECT_NE(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}"),
            "");
  // Work: big strings made again and again in a loop.
  EXPECT_NE(error_of("{% set s = 'x' * 900 %}{% for i in range(100000) %}{% set t = s ~ i %}{% endfor %}",
                     Json::object(), small),
            "");
  EXPECT_NE(error_of("{% set l = range(1000)|list %}{% for i in range(100000) %}{% if i in l %}{% endif %}{% endfor %}",
                     Json::object(), small),
            "");
}

TEST(ChatTemplate, ContextMustBeAnObject) {
  EXPECT_THROW(ChatTemplate("x").render(Json::array()), TemplateError);
}

}  // namespace
