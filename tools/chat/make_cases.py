#!/usr/bin/python3
"""Writes tests/data/chat-extra.jsonl: small chat templates exercising one Jinja2 feature each, with the text
(or the error) that jinja2 renders for them, made with the shared reference renderer
(/work/shared/chat/hf_render.py: the sandbox, trim_blocks, lstrip_blocks, loopcontrols and tojson of transformers).

    python3 tools/chat/make_cases.py [SHARED_DIR] > tests/data/chat-extra.jsonl

Needs python3-jinja2. Each case: name, conversation, template, kwargs, messages, add_generation_prompt,
(tools), and expected or error - the layout of chat/hf-renders.jsonl."""
import json
import os
import sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LMGEN_SHARED", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "chat"))
import hf_render  # noqa: E402

MSGS = [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "  Hello!  "}, {"role": "user", "content": "caf\u00e9 \u4e2d\u6587 \U0001F600"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
KW = {"bos_token": "<s>", "eos_token": "</s>"}

# (name, template[, extra kwargs]) - rendered with MSGS, add_generation_prompt=True and KW.
CASES = [
    # whitespace control, trim_blocks, lstrip_blocks
    ("ws-trim-blocks", "{% if true %}\nA\n{% endif %}\nB\n"),
    ("ws-lstrip", "x\n    {% if true %}\n    y\n    {% endif %}\nz"),
    ("ws-lstrip-not-var", "x\n    {{ 'v' }}\n    {% if 1 %}w{% endif %}"),
    ("ws-minus", "a   {%- if true -%}   b   {%- endif -%}   c"),
    ("ws-var-minus", "a  {{- 'b' -}}  c\n\n{{ 'd' }}\n"),
    ("ws-plus", "x\n    {%+ if true +%}\ny{% endif %}"),
    ("ws-comment", "a\n  {# note #}\nb {#- tight -#} c\n{# last #}"),
    ("ws-crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n"),
    ("ws-trailing-newline", "line\n"),
    ("ws-raw", "{% raw %}{{ not parsed }} {% if %}{% endraw %}|{%- raw -%}  x  {%- endraw -%}  |"),
    ("ws-raw-lstrip", "a\n  {% raw %}\n  r\n  {% endraw %}\nb"),
    ("ws-tag-mid-line", "a {% if true %}b{% endif %} c\n  {% for i in [1] %}{{ i }}{% endfor %}  d"),
    ("ws-after-minus-newline", "{%- set x = 1 -%}\n\n  {% if x %}\n  X\n  {% endif %}\n"),
    # printing values as Python str()
    ("print-scalars", "{{ none }}|{{ true }}|{{ false }}|{{ 42 }}|{{ -7 }}|{{ 1.0 }}|{{ 2.5e-7 }}|{{ 1e16 }}|{{ 123456.789 }}|{{ 0.1 }}"),
    ("print-containers", "{{ [1, 'a', none, true, 1.5] }}|{{ {'k': 'v', 'n': [1, {'x': none}]} }}|{{ (1,) }}|{{ (1, 2) }}|{{ () }}"),
    ("print-string-repr", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\tnl\\n', '\\\\'] }}"),
    ("print-undefined", "[{{ nope }}][{{ messages[0].missing }}][{{ messages[99] }}]"),
    ("print-unicode", "{{ messages[3].content }}|{{ messages[3].content|length }}|{{ messages[3].content[5] }}|{{ messages[3].content[-1] }}"),
    ("print-division", "{{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7.5 // 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }}"),
    ("print-arith-mixed", "{{ 1 + 2.5 }} {{ true + 1 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ [1, 2] + [3] }} {{ 'a' + 'b' }} {{ 10 - 2.5 }} {{ -(3) }} {{ +4 }}"),
    ("print-pow-left-assoc", "{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 1 + 2 * 3 - 4 / 2 }} {{ 'a' ~ 1 + 2 }}"),
    ("print-floats", "{{ 1/3 }} {{ 2/3*3 }} {{ 1e-5 }} {{ 0.0001 }} {{ 1e15 }} {{ 123456789012345678.0 }} {{ -0.0 }} {{ 3.14159|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 7|round }}"),
    # literals
    ("literal-strings", "{{ 'a\\nb' }}|{{ \"q'\" }}|{{ 'x' 'y' }}|{{ '\\u00e9\\x41' }}|{{ 'back\\\\slash' }}|{{ 'unknown\\d' }}"),
    ("literal-numbers", "{{ 1_000 }} {{ 0.5 }} {{ 1e3 }} {{ 10 == 10.0 }} {{ True }} {{ False }} {{ None }}"),
    ("literal-dict-list", "{% set d = {'b': 1, 'a': 2, 1: 'int'} %}{{ d }} {{ d['a'] }} {{ d[1] }} {{ [1, [2, [3]]][1][1][0] }}"),
    # operators
    ("op-compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 'a' != 'a' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ true == 1 }}"),
    ("op-in", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 'role' in messages[0] }} {{ 3 not in [3] }}"),
    ("op-logic", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ none or [] }}|{{ not [] }}|{{ not 'x' }}|{{ 1 and 2 or 3 }}|{{ nope or 'd' }}"),
    ("op-cond", "{{ 'y' if true else 'n' }}|{{ 'y' if false else 'n' }}|{{ 'y' if false }}|{{ ('a' if 0 else 'b') ~ 'c' }}"),
    ("op-concat", "{{ 1 ~ 2 ~ 'x' ~ none ~ true ~ nope ~ [1] }}"),
    ("op-is", "{{ none is none }} {{ 1 is not none }} {{ nope is defined }} {{ nope is undefined }} {{ messages is iterable }} {{ 'x' is string }}"),
    # attribute / item lookup, slicing
    ("lookup-both-ways", "{{ messages[1].role }} {{ messages[1]['content'] }} {{ messages.0.role }} {{ messages[-1]['role'] }}"),
    ("lookup-dict-methods", "{% set d = {'a': 1, 'b': none} %}{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}"),
    ("slice-list", "{{ messages[1:]|length }} {{ [1,2,3,4,5][1:4] }} {{ [1,2,3,4,5][::2] }} {{ [1,2,3,4,5][::-1] }} {{ [1,2,3][-2:] }} {{ [1,2,3][:-1] }} {{ [1,2,3][5:] }} {{ [1,2,3,4,5][4:1:-2] }}"),
    ("slice-string", "{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'h\u00e9llo'[:2] }} {{ 'abc'[-1] }} {{ 'abcdef'[::3] }}"),
    # for loops
    ("for-loop-vars", "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}"),
    ("for-prev-next", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}"),
    ("for-cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}"),
    ("for-else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}"),
    ("for-filter", "{% for m in messages if m.role == 'user' %}{{ loop.index }}:{{ m.content }} of {{ loop.length }};{% endfor %}"),
    ("for-break-continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
    ("for-unpack", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}"),
    ("for-dict-string", "{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}|{% for c in 'ab\u00e9' %}[{{ c }}]{% endfor %}"),
    ("for-nested-loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}"),
    ("for-undefined", "[{% for x in nope %}{{ x }}{% endfor %}]"),
    ("for-scope", "{% set x = 'out' %}{% for i in [1, 2] %}{% set x = 'in' ~ i %}{{ x }}{% endfor %}{{ x }}"),
    ("for-scope-persist", "{% for i in [1, 2, 3] %}{% if i == 1 %}{% set y = 'set' %}{% endif %}{{ y }};{% endfor %}"),
    ("for-loop-depth", "{% for a in [1] %}{{ loop.depth }}{% for b in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}{% endfor %}"),
    # set, namespace, macros, call, filter blocks, with
    ("set-basic", "{% set a = 1 %}{% set b, c = [2, 3] %}{% set t = 1, 2 %}{{ a }}{{ b }}{{ c }}{{ t }}"),
    ("set-block", "{% set x %}\n  Hello {{ messages[0].content }}\n{% endset %}[{{ x }}]{% set y | upper %}low{% endset %}{{ y }}"),
    ("set-namespace", "{% set ns = namespace(found=false, n=0, items=[]) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% set ns.n = ns.n + 1 %}{% set ns.items = ns.items + [m.role] %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns.items }}"),
    ("set-in-if-leaks", "{% if true %}{% set z = 5 %}{% endif %}{{ z }}"),
    ("macro-basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }} {{ greet() }}"),
    ("macro-recursive", "{% macro walk(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}:{{ walk(x) }},{% endfor %}{{ '}' }}{% elif v is iterable and v is not string %}[{% for x in v %}{{ walk(x) }}{% endfor %}]{% else %}{{ v }}{% endif %}{% endmacro %}{{ walk({'a': [1, {'b': 'c'}], 'd': 2}) }}"),
    ("macro-defaults-refer", "{% macro f(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ f(3) }}"),
    ("macro-sees-globals", "{% macro f() %}{{ bos_token }}{{ messages|length }}{% endmacro %}{{ f() }}"),
    ("macro-varargs", "{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k=4) }}"),
    ("call-block", "{% macro box(title) %}[{{ title }}:{{ caller() }}]{% endmacro %}{% call box('T') %}inside {{ messages[0].content }}{% endcall %}"),
    ("call-block-args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}"),
    ("filter-block", "{% filter upper %}hello {{ messages[0].content }}{% endfilter %}|{% filter trim|replace('a', 'o') %}  banana  {% endfilter %}"),
    ("with-block", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]"),
    # filters
    ("filter-trim", "[{{ '  a b  '|trim }}][{{ 'xxaxx'|trim('x') }}][{{ messages[2].content|trim }}][{{ '\u3000\u00a0wide\u2003'|trim }}]"),
    ("filter-case", "{{ 'hello wORLD'|upper }} {{ 'HeLLo'|lower }} {{ 'hello wORLD-foo (bar)'|title }} {{ 'hELLO world'|capitalize }} {{ '\u00e9t\u00e9'|upper }}"),
    ("filter-replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 'x\ny'|replace('\n', '\\\\n') }}"),
    ("filter-join", "{{ [1, 2, 3]|join }} {{ ['a', 'b']|join(', ') }} {{ messages|join('|', attribute='role') }} {{ 'abc'|join('.') }}"),
    ("filter-length", "{{ messages|length }} {{ 'h\u00e9llo'|length }} {{ {'a': 1}|length }} {{ nope|length }} {{ [1, 2]|count }}"),
    ("filter-first-last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} {{ 'abc'|last }} [{{ []|first }}] {{ messages|first|tojson }}"),
    ("filter-default", "{{ nope|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ none|default('d') }} {{ none|d('x', boolean=true) }} {{ messages[0].x|default('m') }}"),
    ("filter-list-items", "{{ 'ab'|list }} {{ {'a': 1}|list }} {{ {'a': 1, 'b': [2]}|items|list }} {{ (1, 2)|list }}"),
    ("filter-select", "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ messages|rejectattr('role', 'eq', 'user')|list|length }} {{ [0, 1, 2, '', 'x']|select|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ messages|selectattr('missing')|list }}"),
    ("filter-selectattr-defined", "{{ [{'a': 1}, {'b': 2}]|selectattr('a', 'defined')|list }} {{ [{'a': 1}, {'b': 2}]|selectattr('a', 'undefined')|list }} {{ [{'a': {'b': 3}}]|map(attribute='a.b')|list }}"),
    ("filter-map", "{{ ['a', 'B']|map('upper')|list }} {{ [' a ', 'b ']|map('trim')|join(',') }} {{ messages|map(attribute='missing', default='?')|list }} {{ [1.7, 2.2]|map('int')|list }} {{ ['x', 'y']|map('replace', 'x', 'z')|list }}"),
    ("filter-string-int-float", "{{ 12|string ~ 3 }} {{ '42'|int + 1 }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '3.5'|float }} {{ 'y'|float }} {{ 2|float }} {{ true|int }} {{ '0x1f'|int(base=16) }}"),
    ("filter-indent", "{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, blank=true) }}|{{ 'x\ny'|indent('>> ') }}|{{ ''|indent(first=true) }}"),
    ("filter-dictsort", "{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }} {{ {'b': 1, 'a': 2, 'C': 0}|dictsort(true) }} {{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}"),
    ("filter-unique-sort", "{{ [3, 1, 2, 1]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ messages|sort(attribute='role')|map(attribute='role')|list }}"),
    ("filter-reverse", "{{ 'abc'|reverse }} {{ [1, 2, 3]|reverse|list }} {% for x in [1, 2]|reverse %}{{ x }}{% endfor %}"),
    ("filter-numbers", "{{ -3|abs }} {{ (-3)|abs }} {{ -2.5|abs }} {{ 2.567|round(1) }} {{ 2.5|round(0, 'floor') }} {{ 2.1|round(0, 'ceil') }} {{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A']|max }} {{ [1, 2, 3]|sum }} {{ [{'n': 2}, {'n': 3}]|sum(attribute='n') }} {{ [0.5, 1]|sum(start=1) }}"),
    ("filter-batch-wordcount-center", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }} {{ 'one two  three'|wordcount }} [{{ 'ab'|center(6) }}] [{{ 'abc'|center(6) }}]"),
    ("filter-escape-safe", "{{ '<a href=\"x\">&\\'</a>'|escape }} {{ '<b>'|e }} {{ '<i>'|safe }} {{ ('<x>'|safe + '<y>') }} {{ ('<x>' + '<y>'|safe) }} {{ '<x>'|safe ~ '<y>' }}"),
    ("filter-tojson", "{{ messages[3]|tojson }} {{ [1, 2.5, true, none, 'x\"y\\\\z\n']|tojson }} {{ {'a': {'b': []}, 'c': {}}|tojson }} {{ 1e100|tojson }} {{ 'caf\u00e9'|tojson(ensure_ascii=true) }}"),
    ("filter-tojson-indent", "{{ {'a': [1, {'b': 2}], 'c': {}, 'd': []}|tojson(indent=2) }}\n{{ [1]|tojson(indent=0) }}\n{{ {'k': 1}|tojson(indent='\t') }}"),
    ("filter-tojson-args", "{{ {'b': 1, 'a': [1, 2]}|tojson(sort_keys=true) }} {{ {'a': [1, 2]}|tojson(separators=(',', ':')) }} {{ {1: 'int key', true: 'b', none: 'n'}|tojson }}"),
    ("filter-tojson-tools", "{% for t in tools %}{{ t|tojson }}\n{{ t.function|tojson(indent=4) }}{% endfor %}"),
    ("filter-attr", "{{ messages[0]|attr('role') }}"),
    # tests
    ("tests-types", "{{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ true is number }} {{ 'x' is string }} {{ {} is mapping }} {{ [] is sequence }} {{ 'x' is iterable }} {{ 1 is iterable }} {{ none is none }} {{ nope is iterable }} {{ range is callable }} {{ 'x' is callable }}"),
    ("tests-values", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 2 is eq 2 }} {{ 2 is equalto 3 }} {{ 2 is ne 3 }} {{ 2 is in [1, 2] }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 2 is le 1 }}"),
    ("tests-defined", "{{ messages is defined }} {{ tools is defined }} {{ messages[0].role is defined }} {{ messages[0].nope is defined }} {{ messages[0].nope is not defined }}"),
    # Python string methods
    ("str-strip", "[{{ '  x  '.strip() }}][{{ 'xxaxx'.strip('x') }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ 'abcba'.lstrip('ab') }}][{{ 'abcba'.rstrip('ab') }}]"),
    ("str-split", "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a  b '.rsplit(None, 1) }} {{ ''.split(',') }} {{ ''.split() }} {{ 'a\nb\r\nc'.splitlines() }}"),
    ("str-affix", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith(('x',)) }} {{ 'hello'.removeprefix('he') }} {{ 'hello'.removesuffix('lo') }}"),
    ("str-case-methods", "{{ 'ab cd'.upper() }} {{ 'AB'.lower() }} {{ 'hello world-x'.title() }} {{ 'hELLO'.capitalize() }} {{ 'aBc'.swapcase() }}"),
    ("str-find-count", "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'h\u00e9llo'.find('l') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }} {{ 'a-b'.replace('-', '+') }} {{ 'aaa'.replace('a', 'b', 1) }}"),
    ("str-join-format", "{{ ', '.join(['a', 'b']) }} {{ '-'.join('xyz') }} {{ '{} and {}'.format('a', 1) }} {{ '{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ '{{x}}'.format() }}"),
    ("str-predicates", "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ''.isdigit() }} {{ 'x'.zfill(3) }} {{ 'x'.center(5, '*') }} {{ 'x'.ljust(3) }}| {{ 'x'.rjust(3) }} {{ 'a=b'.partition('=') }}"),
    ("list-methods", "{{ [1, 2, 3, 2].index(2) }} {{ [1, 2, 2].count(2) }} {{ ['a'].copy() }}"),
    # globals
    ("global-range", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }}"),
    ("global-namespace-dict", "{% set ns = namespace(a=1) %}{{ ns.a }} {{ ns.b }} {{ dict(x=1, y='2') }} {{ namespace({'k': 2}).k }}"),
    ("global-strftime", "{{ strftime_now('%d %b %Y') }}"),
    ("context-kwargs", "{{ bos_token }}{{ add_generation_prompt }}{{ eos_token }}{{ custom }}{{ custom_list|tojson }}", {"custom": "C", "custom_list": [1, "two", None, 3.25]}),
    # error cases (the reference raises)
    ("err-raise-exception", "{{ raise_exception('Only user and assistant roles are supported!') }}"),
    ("err-undefined-attr", "{{ nope.attr }}"),
    ("err-undefined-item", "{{ nope['x'] }}"),
    ("err-undefined-chain", "{{ messages[0].missing.deeper }}"),
    ("err-undefined-call", "{{ nope() }}"),
    ("err-undefined-add", "{{ nope + 1 }}"),
    ("err-list-append", "{% set l = [1] %}{{ l.append(2) }}"),
    ("err-dict-update", "{% set d = {} %}{{ d.update({'a': 1}) }}"),
    ("err-dunder", "{{ messages.__class__.__mro__ }}"),
    ("err-unknown-filter", "{{ 'x'|no_such_filter }}"),
    ("err-unknown-test", "{{ 'x' is no_such_test }}"),
    ("err-syntax-unclosed-if", "{% if true %}x"),
    ("err-syntax-unclosed-tag", "{{ 'x' "),
    ("err-syntax-bad-expr", "{{ 1 + }}"),
    ("err-syntax-unknown-tag", "{% include 'x.html' %}"),
    ("err-type-add", "{{ 'a' + 1 }}"),
    ("err-type-compare", "{{ 'a' < 1 }}"),
    ("err-div-zero", "{{ 1 / 0 }}"),
    ("err-int-div-zero", "{{ 1 // 0 }}"),
    ("err-not-iterable", "{% for x in 42 %}{% endfor %}"),
    ("err-none-iterable", "{% for x in none %}{% endfor %}"),
    ("err-tojson-undefined", "{{ nope|tojson }}"),
    ("err-tojson-generator", "{{ messages|map(attribute='role')|tojson }}"),
    ("err-length-generator", "{{ messages|selectattr('role')|length }}"),
    ("err-range-too-big", "{{ range(1000000)|length }}"),
    ("err-set-attr-non-namespace", "{% set d = {} %}{% set d.x = 1 %}"),
    ("err-items-non-mapping", "{{ [1]|items|list }}"),
    ("err-unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
    ("err-break-outside-loop", "{% break %}"),
    ("err-call-string", "{{ 'x'() }}"),
]

CONVERSATIONS = {"basic": (MSGS, None), "tools": (MSGS[1:3], TOOLS)}


def main():
    for case in CASES:
        name, template = case[0], case[1]
        kwargs = dict(KW, **(case[2] if len(case) > 2 else {}))
        conv = "tools" if "tools" in template else "basic"
        messages, tools = CONVERSATIONS[conv]
        text, error = hf_render.render(template, messages, True, tools, **kwargs)
        rec = {"name": name, "conversation": conv, "template": template, "kwargs": kwargs, "messages": messages,
               "add_generation_prompt": True}
        if tools is not None:
            rec["tools"] = tools
        if error is None:
            rec["expected"] = text
        else:
            rec["error"] = error
        print(json.dumps(rec, ensure_ascii=False))


if __name__ == "__main__":
    main()
