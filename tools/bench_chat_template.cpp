// Chat-template benchmark: renders a chat template (by default the Qwen2.5 one of the shared material) for a
// 20-message conversation with 2 tools (tools/chat/conversation.json) many times and prints the time per render.
//
//   bench_chat_template [TEMPLATE] [CONVERSATION_JSON] [RENDERS]
//
// Build (from the repository root; the engine's chat sources only):
//   g++ -O2 -std=c++20 -Isrc -Iinclude tools/bench_chat_template.cpp src/chat/*.cpp -lutf8proc -o /tmp/bench_chat_template
// Compare with python3 tools/chat/bench_jinja.py (jinja2, the engine of transformers' apply_chat_template).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/template.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "bench_chat_template: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  const std::string tpl_path = argc > 1 ? argv[1] : "../shared/chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja";
  const std::string conv_path = argc > 2 ? argv[2] : "tools/chat/conversation.json";
  const int renders = argc > 3 ? std::atoi(argv[3]) : 2000;
  try {
    const auto conv = nlohmann::ordered_json::parse(slurp(conv_path));
    nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
    ctx["messages"] = conv.at("messages");
    ctx["tools"] = conv.at("tools");
    ctx["add_generation_prompt"] = true;
    ctx["bos_token"] = "<s>";
    ctx["eos_token"] = "</s>";

    const auto p0 = std::chrono::steady_clock::now();
    const lmgen::chat::ChatTemplate t(slurp(tpl_path));
    const double parse_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - p0).count();

    size_t bytes = t.render(ctx).size();  // warm-up
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    for (int i = 0; i < renders; ++i) bytes = t.render(ctx).size();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const double cpu = cpu_seconds() - c0;
    std::printf("template %s\nparse: %.1f us\nrender: %d renders of %zu bytes, %.1f us/render wall, %.1f us/render CPU\n",
                tpl_path.c_str(), parse_us, renders, bytes, wall * 1e6 / renders, cpu * 1e6 / renders);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_chat_template: %s\n", e.what());
    return 1;
  }
  return 0;
}
