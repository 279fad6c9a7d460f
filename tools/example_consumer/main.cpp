// Example: embed lmgen in another program. Loads a model, tokenizes a prompt, and generates greedily with a
// callback per token, then continues the conversation for a second turn that evaluates only its new tokens.
//   usage: lmgen_example MODEL [PROMPT] [TOKENIZER]
#include <lmgen/error.hpp>
#include <lmgen/generator.hpp>
#include <lmgen/loader.hpp>
#include <lmgen/model.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [PROMPT] [TOKENIZER]\n", argv[0]);
    return 2;
  }
  try {
    lmgen::LoadOptions lo;
    if (argc > 3) lo.tokenizer_path = argv[3];
    lmgen::LoadedModel lm = lmgen::load_model(argv[1], lo);
    lmgen::Model model(lm.model, lmgen::ModelOptions{});
    const std::string prompt = argc > 2 ? argv[2] : "";

    std::vector<int32_t> ids = lm.tokenizer->encode(prompt);
    std::fprintf(stderr, "prompt: %zu tokens\n", ids.size());

    lmgen::GenerateOptions opt;
    opt.n_predict = 32;
    opt.sampling.temperature = 0;  // greedy
    lmgen::Generator gen(model, *lm.tokenizer);
    int n = 0;
    lmgen::GenerateResult r = gen.generate(prompt, opt, [&](const lmgen::TokenEvent& ev) {
      std::fputs(ev.text.c_str(), stdout);
      std::fflush(stdout);
      ++n;
      return true;  // keep going
    });
    std::printf("\n[%d callbacks, %zu tokens, stop: %s]\n", n, r.tokens.size(), lmgen::stop_reason_name(r.stop_reason));

    // A second turn: the conversation so far plus new text. The generator keeps its KV cache, so only the new
    // tokens are evaluated (what a chat program does turn after turn).
    std::vector<int32_t> convo = r.prompt_tokens;
    convo.insert(convo.end(), r.tokens.begin(), r.tokens.end());
    const std::vector<int32_t> more = lm.tokenizer->encode(" Then", {.add_special = false});
    convo.insert(convo.end(), more.begin(), more.end());
    opt.n_predict = 8;
    lmgen::GenerateResult r2 = gen.continue_from(convo, opt, [](const lmgen::TokenEvent& ev) {
      std::fputs(ev.text.c_str(), stdout);
      return true;
    });
    // New since the cache: the last generated token (sampled, never evaluated) and the added text.
    std::printf("\n[turn 2: %lld prompt tokens, %lld evaluated, %lld reused, %zu new]\n",
                static_cast<long long>(r2.prompt_tokens.size()), static_cast<long long>(r2.n_evaluated),
                static_cast<long long>(r2.n_reused), more.size() + 1);
    return 0;
  } catch (const lmgen::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
