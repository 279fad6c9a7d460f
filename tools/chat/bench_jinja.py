#!/usr/bin/python3
"""The Python side of tools/bench_chat_template.cpp: the same template and conversation rendered with jinja2 as
transformers configures it (the shared chat/hf_render.py environment), time per render.

    python3 tools/chat/bench_jinja.py [TEMPLATE] [CONVERSATION_JSON] [RENDERS]"""
import json
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHARED = os.environ.get("LMGEN_SHARED", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "chat"))
import hf_render  # noqa: E402

tpl_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SHARED, "chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja")
conv_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tools/chat/conversation.json")
renders = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
conv = json.load(open(conv_path))
args = dict(messages=conv["messages"], tools=conv["tools"], add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
t0 = time.perf_counter()
t = hf_render.ENV.from_string(open(tpl_path).read())
parse_us = (time.perf_counter() - t0) * 1e6
n = len(t.render(**args))
w0, c0 = time.perf_counter(), time.process_time()
for _ in range(renders):
    n = len(t.render(**args))
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
print("template %s\nparse (compile): %.1f us\nrender: %d renders of %d bytes, %.1f us/render wall, %.1f us/render CPU"
      % (tpl_path, parse_us, renders, n, wall * 1e6 / renders, cpu * 1e6 / renders))
