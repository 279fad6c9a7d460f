// `lmgen bench`: prompt-processing and generation speed of a model, in the manner of llama-bench.
//
//   lmgen bench -m MODEL [-p 128] [-n 64] [-t 1,2] [-r 5] [--jsonl]
//
// For each thread count: the model is set up once, then one untimed warm-up run and R timed runs of
//   pp<P>: one eval of P seeded pseudo-random token ids from an empty context (all P in one forward chunk unless
//          -b is smaller), tokens/s = P / time;
//   tg<N>: from an empty context, one untimed start token, then N single-token evals, each fed the previous step's
//          argmax (greedy, as a generation loop would), tokens/s = N / time.
// With -d D (llama-bench's --n-depth) both tests start after D untimed random context tokens instead of an empty
// context (tg then runs at positions D+1 .. D+N, e.g. -d 128 matches a generation that follows a 128-token prompt);
// the JSON lines then carry "depth": D.
// Reported: mean ± sample standard deviation of tokens/s over the R runs. Weights are read straight from the
// memory-mapped file (no tokenizer is loaded), so random-weight models of a real shape work.
// Output: a markdown table on stdout, or with --jsonl one line per test:
//   {"test": "pp128", "threads": 2, "kernels": "avx512vnni", "weight_kernels": {"q3_k": "avx512vnni x q8_k", ...},
//    "tokens_per_s": 1234.5, "sd": 12.3}   (+ "depth": D when -d D > 0)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/quant.hpp"
#include "kernels/threads.hpp"

namespace lmgen::cli {

namespace {

struct BenchArgs {
  std::string model;
  int64_t n_prompt = 128;
  int64_t n_gen = 64;
  int64_t depth = 0;
  std::vector<int> threads;
  int reps = 5;
  int64_t n_batch = 0;  // 0 = the prompt length
  uint64_t seed = 1;
  bool jsonl = false;
  bool no_mmap = false;
  std::vector<std::string> lora;  // --lora
  int verbose = 0;
  bool quiet = false;
};

struct Stats {
  double mean = 0, sd = 0;
};

Stats stats(const std::vector<double>& xs) {
  Stats s;
  if (xs.empty()) return s;
  for (double x : xs) s.mean += x;
  s.mean /= static_cast<double>(xs.size());
  if (xs.size() > 1) {
    double v = 0;
    for (double x : xs) v += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(v / static_cast<double>(xs.size() - 1));
  }
  return s;
}

// splitmix64: a tiny seeded generator for the prompt token ids (same ids for a given seed on any machine).
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Result {
  std::string test;  // "pp128", "tg64"
  int threads = 0;
  Stats s;
};

std::vector<Result> bench_threads(const BenchArgs& a, const std::shared_ptr<const ModelData>& data, int threads,
                                  Context& ctx) {
  ModelOptions mo;
  mo.n_threads = threads;
  mo.n_ctx = a.depth + std::max(a.n_prompt, a.n_gen + 1) + 1;
  mo.n_batch = a.n_batch > 0 ? a.n_batch : std::max<int64_t>({1, a.n_prompt, a.depth});
  Model model(data, mo);
  const int used = model.n_threads();
  const int64_t n_vocab = model.n_vocab();

  std::vector<float> logits;
  uint64_t rng = a.seed;
  std::vector<int32_t> prompt(static_cast<size_t>(a.n_prompt));
  for (auto& t : prompt) t = static_cast<int32_t>(next_random(rng) % static_cast<uint64_t>(n_vocab));
  const int32_t start = static_cast<int32_t>(next_random(rng) % static_cast<uint64_t>(n_vocab));
  std::vector<int32_t> context(static_cast<size_t>(a.depth));
  for (auto& t : context) t = static_cast<int32_t>(next_random(rng) % static_cast<uint64_t>(n_vocab));
  bool prefilled = false;
  auto restart = [&] {  // empty cache, then the untimed depth tokens (evaluated once, later kept by truncation)
    if (context.empty()) {
      model.reset();
    } else if (prefilled) {
      model.truncate(a.depth);
    } else {
      model.reset();
      model.eval(context, logits);
      prefilled = true;
    }
  };

  std::vector<double> pp, tg;
  Progress progress(!a.quiet && isatty(STDERR_FILENO), "bench -t " + std::to_string(used), a.reps + 1, "runs");
  for (int rep = 0; rep <= a.reps; ++rep) {  // rep 0 is the warm-up
    if (ctx.interrupted && ctx.interrupted->load()) break;
    progress.update(rep);
    if (a.n_prompt > 0) {
      restart();
      auto t0 = std::chrono::steady_clock::now();
      model.eval(prompt, logits);
      double dt = seconds_since(t0);
      if (rep > 0) pp.push_back(static_cast<double>(a.n_prompt) / dt);
    }
    if (a.n_gen > 0) {
      restart();
      int32_t tok = start;
      model.eval({&tok, 1}, logits);
      tok = argmax(logits);
      auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < a.n_gen; ++i) {
        if (ctx.interrupted && ctx.interrupted->load()) break;
        model.eval({&tok, 1}, logits);
        tok = argmax(logits);
      }
      double dt = seconds_since(t0);
      if (rep > 0) tg.push_back(static_cast<double>(a.n_gen) / dt);
    }
  }
  progress.finish();
  std::vector<Result> out;
  if (a.n_prompt > 0) out.push_back({"pp" + std::to_string(a.n_prompt), used, stats(pp)});
  if (a.n_gen > 0) out.push_back({"tg" + std::to_string(a.n_gen), used, stats(tg)});
  return out;
}

int run_bench(BenchArgs& a, Context& ctx) {
  if (a.n_prompt == 0 && a.n_gen == 0) throw UsageError("bench: nothing to measure (-p 0 and -n 0)");
  if (a.threads.empty()) a.threads.push_back(0);
  const std::string path = resolve_model_path(a.model);
  ModelArgs ma;
  ma.model = path;
  ma.verbose = a.verbose;
  ma.quiet = a.quiet;
  ma.no_mmap = a.no_mmap;
  ma.lora = a.lora;
  LoadedModel lm = load(ma, /*need_tokenizer=*/false);
  const ModelConfig& c = lm.model->config;
  if (c.n_vocab <= 0) throw Error(path, "model has no vocabulary rows");

  std::error_code ec;
  const double mib = static_cast<double>(std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0) /
                     1048576.0;
  const std::string name = std::filesystem::path(path).filename().string();
  const char* kernels = simd::isa_name(simd::active_isa());
  nlohmann::ordered_json weight_kernels = nlohmann::ordered_json::object();  // the kernel of each weight type
  for (const auto& [t, n] : lm.model->weights.matrix_types()) weight_kernels[dtype_name(t)] = vec_dot_kernel(t);
  if (!a.jsonl) {
    write_out(ctx, "| model | size | arch | kernels | threads | test | t/s |\n| --- | ---: | --- | --- | ---: | --- | ---: |\n");
  }
  for (int t : a.threads) {
    for (const Result& r : bench_threads(a, lm.model, t, ctx)) {
      if (a.jsonl) {
        nlohmann::ordered_json j;
        j["test"] = r.test;
        j["threads"] = r.threads;
        j["kernels"] = kernels;
        j["weight_kernels"] = weight_kernels;
        j["tokens_per_s"] = std::round(r.s.mean * 100) / 100;
        j["sd"] = std::round(r.s.sd * 100) / 100;
        if (a.depth > 0) j["depth"] = a.depth;
        if (!write_out(ctx, json_line(j))) return 1;
      } else {
        char buf[512];
        std::snprintf(buf, sizeof buf, "| %s | %.1f MiB | %s | %s | %d | %s | %.2f ± %.2f |\n", name.c_str(), mib,
                      c.arch.c_str(), kernels, r.threads, (r.test + (a.depth > 0 ? " @ d" + std::to_string(a.depth) : "")).c_str(),
                      r.s.mean, r.s.sd);
        if (!write_out(ctx, buf)) return 1;
      }
    }
    if (ctx.interrupted && ctx.interrupted->load()) return 130;
  }
  return 0;
}

}  // namespace

std::vector<Command> setup_bench(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Measure prompt and generation speed (tokens/s), like llama-bench");
  sub->footer(
      "Runs a prompt-processing test (pp, -p tokens) and a generation test (tg, -n tokens) on random tokens, after\n"
      "one warm-up run, and reports the mean and spread of the timed runs. Ctrl-C stops it (exit 130).\n\n"
      "Examples:\n"
      "  lmgen bench -m model.gguf\n"
      "  lmgen bench -m model.gguf -p 512 -n 128 -t 1,2,4 -r 5 --jsonl");
  sub->add_option("-m,--model", a->model, "Model: GGUF file, llama2.c .bin or HF directory (default: bundled)")
      ->check(path_check());
  sub->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens of the pp test (0 = skip)")
      ->check(count_check(0))
      ->capture_default_str();
  sub->add_option("-n,--n-gen", a->n_gen, "Generated tokens of the tg test (0 = skip)")
      ->check(count_check(0))
      ->capture_default_str();
  sub->add_option("-d,--depth", a->depth, "Context tokens already in the cache when each test starts (untimed)")
      ->check(count_check(0))
      ->capture_default_str();
  sub->add_option("-t,--threads", a->threads, "Thread counts, comma-separated (default: physical cores)")
      ->delimiter(',')
      ->check(count_check(0));
  sub->add_option("-r,--repetitions", a->reps, "Timed runs per test (after one warm-up run)")
      ->check(count_check(1))
      ->capture_default_str();
  sub->add_option("-b,--batch-size", a->n_batch, "Prompt tokens per forward chunk (default: the whole prompt / depth)")
      ->check(count_check(0));
  sub->add_option("-s,--seed", a->seed, "Seed of the random prompt tokens")->capture_default_str()->check(uint64_check());
  sub->add_flag("--jsonl", a->jsonl, "One JSON line per test instead of a table");
  add_lora_option(*sub, a->lora);
  sub->add_flag("--no-mmap", a->no_mmap, "Read the weights into memory instead of mapping the file (see lmgen --help)");
  sub->add_flag("-v,--verbose", a->verbose, "More information on stderr");
  sub->add_flag("-q,--quiet,--log-disable", a->quiet, "Nothing on stderr but errors (no progress bar)");
  return {Command{sub, [a, &ctx] { return run_bench(*a, ctx); }}};
}

}  // namespace lmgen::cli
