// Example: embed lmgen in another program. Loads a model, tokenizes a prompt, and generates greedily with a
// callback per token.   usage: lmgen_example MODEL [PROMPT] [TOKENIZER]
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
    return 0;
  } catch (const lmgen::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
