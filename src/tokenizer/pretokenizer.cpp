// Regex pre-tokenizers on PCRE2, llama.cpp's per-`tokenizer.ggml.pre` regex lists, and the byte-level table.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.hpp"

#include <pcre2.h>

#include <array>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen {

// ---------------------------------------------------------------------------------------------------------------
// Regex

Regex::Regex(const std::string& pattern, const std::string& where, uint32_t options) : pattern_(pattern) {
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  if (options & kLiteral) opts = (opts & ~PCRE2_UCP) | PCRE2_LITERAL;  // UCP is not allowed with LITERAL
  if (options & kDollarEndOnly) opts |= PCRE2_DOLLAR_ENDONLY;
  if (options & kMultiline) opts |= PCRE2_MULTILINE;
  int err = 0;
  PCRE2_SIZE erroff = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), opts, &err,
                                   &erroff, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error(where, "bad pre-tokenizer regex at offset " + std::to_string(erroff) + ": " +
                           reinterpret_cast<const char*>(msg) + " in /" + pattern + "/");
  }
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void* Regex::new_match_data() const {
  return pcre2_match_data_create_from_pattern(static_cast<pcre2_code*>(code_), nullptr);
}
void Regex::free_match_data(void* md) { pcre2_match_data_free(static_cast<pcre2_match_data*>(md)); }

bool Regex::find(std::string_view s, size_t start, void* md, size_t& mb, size_t& me) const {
  auto* code = static_cast<pcre2_code*>(code_);
  auto* data = static_cast<pcre2_match_data*>(md);
  auto subj = reinterpret_cast<PCRE2_SPTR>(s.data());
  int rc = jit_ ? pcre2_jit_match(code, subj, s.size(), start, 0, data, nullptr)
                : pcre2_match(code, subj, s.size(), start, 0, data, nullptr);
  if (rc < 0) {
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    throw Error("pre-tokenizer regex match failed (PCRE2 error " + std::to_string(rc) + ") for /" + pattern_ + "/");
  }
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
  mb = ov[0];
  me = ov[1];
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// PreTokenizer

void PreTokenizer::add_split(std::shared_ptr<const Regex> re, SplitBehavior behavior, bool invert) {
  Step st;
  st.re = std::move(re);
  st.behavior = behavior;
  st.invert = invert;
  steps_.push_back(std::move(st));
}
void PreTokenizer::add_prefix_space() {
  Step st;
  st.kind = Kind::PrefixSpace;
  steps_.push_back(std::move(st));
}
void PreTokenizer::add_metaspace(std::string replacement, Prepend prepend, bool split) {
  Step st;
  st.kind = Kind::Metaspace;
  if (split) st.re = std::make_shared<Regex>(replacement, "Metaspace", Regex::kLiteral);
  st.behavior = SplitBehavior::MergedWithNext;
  st.replacement = std::move(replacement);
  st.prepend = prepend;
  steps_.push_back(std::move(st));
}
bool PreTokenizer::prepends_space() const {
  for (const Step& st : steps_)
    if (st.kind == Kind::Metaspace && st.prepend != Prepend::Never) return true;
  return false;
}

namespace {
struct Seg {
  uint32_t b, e;
  bool match;
};

// HF Split semantics on one piece: segments (matches and gaps, covering the piece) -> pieces.
void apply_behavior(std::vector<Seg>& segs, SplitBehavior behavior, std::vector<Span>& out) {
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto& s : segs) out.push_back({s.b, s.e});
      return;
    case SplitBehavior::Removed:
      for (auto& s : segs)
        if (!s.match) out.push_back({s.b, s.e});
      return;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      size_t first = out.size();
      for (auto& s : segs) {
        if (s.match && !prev_match && out.size() > first) out.back().end = s.e;
        else out.push_back({s.b, s.e});
        prev_match = s.match;
      }
      return;
    }
    case SplitBehavior::MergedWithNext: {
      std::vector<Span> rev;
      bool prev_match = false;
      for (size_t k = segs.size(); k-- > 0;) {
        const Seg& s = segs[k];
        if (s.match && !prev_match && !rev.empty()) rev.back().begin = s.b;
        else rev.push_back({s.b, s.e});
        prev_match = s.match;
      }
      out.insert(out.end(), rev.rbegin(), rev.rend());
      return;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      size_t first = out.size();
      for (auto& s : segs) {
        if (s.match == prev_match && out.size() > first) out.back().end = s.e;
        else out.push_back({s.b, s.e});
        prev_match = s.match;
      }
      return;
    }
  }
}
}  // namespace

// The steps that rewrite the text: every current piece is copied into a new buffer, changed.
void PreTokenizer::rewrite(std::string& buf, std::vector<Span>& cur, const Step& st, bool at_start) const {
  std::string nb;
  nb.reserve(buf.size() + cur.size() * (st.replacement.size() + 1));
  for (Span& p : cur) {
    std::string_view piece(buf.data() + p.begin, p.end - p.begin);
    uint32_t b = static_cast<uint32_t>(nb.size());
    if (st.kind == Kind::PrefixSpace) {
      if (piece.empty() || piece[0] != ' ') nb.push_back(' ');
      nb.append(piece);
    } else if (!piece.empty()) {  // Metaspace
      const bool first = at_start && p.begin == 0;
      const std::string_view rep = st.replacement;
      if (piece.substr(0, 1) != " " && piece.substr(0, rep.size()) != rep &&
          (st.prepend == Prepend::Always || (st.prepend == Prepend::First && first)))
        nb.append(rep);
      for (char c : piece) {
        if (c == ' ') nb.append(rep);
        else nb.push_back(c);
      }
    }
    p = Span{b, static_cast<uint32_t>(nb.size())};
  }
  buf.swap(nb);
}

void PreTokenizer::split(std::string& buf, std::vector<Span>& out, bool at_start) const {
  std::vector<Span> cur, next;
  cur.push_back({0, static_cast<uint32_t>(buf.size())});
  std::vector<Seg> segs;
  for (const Step& st : steps_) {
    if (st.kind != Kind::Split) rewrite(buf, cur, st, at_start);
    if (!st.re) continue;
    next.clear();
    for (const Span& p : cur) {
      if (p.end == p.begin) continue;
      std::string_view piece(buf.data() + p.begin, p.end - p.begin);
      if (st.behavior == SplitBehavior::Isolated && !st.invert) {  // fast path
        uint32_t prev = 0;
        st.re->for_each_match(piece, [&](size_t mb, size_t me) {
          if (mb > prev) next.push_back({p.begin + prev, p.begin + static_cast<uint32_t>(mb)});
          next.push_back({p.begin + static_cast<uint32_t>(mb), p.begin + static_cast<uint32_t>(me)});
          prev = static_cast<uint32_t>(me);
        });
        if (prev < piece.size()) next.push_back({p.begin + prev, p.end});
        continue;
      }
      segs.clear();
      uint32_t prev = 0;
      st.re->for_each_match(piece, [&](size_t mb, size_t me) {
        if (mb > prev) segs.push_back({p.begin + prev, p.begin + static_cast<uint32_t>(mb), st.invert});
        segs.push_back({p.begin + static_cast<uint32_t>(mb), p.begin + static_cast<uint32_t>(me), !st.invert});
        prev = static_cast<uint32_t>(me);
      });
      if (prev < piece.size()) segs.push_back({p.begin + prev, p.end, st.invert});
      apply_behavior(segs, st.behavior, next);
    }
    cur.swap(next);
  }
  std::erase_if(cur, [](const Span& p) { return p.end == p.begin; });
  if (out.empty()) out.swap(cur);  // a whole text's words (MBs): handed over, not copied into fresh pages
  else out.insert(out.end(), cur.begin(), cur.end());
}

// ---------------------------------------------------------------------------------------------------------------
// From tokenizer.json (the JSON was depth-checked when it was parsed: util/json_limits.hpp)

PreTokenizer PreTokenizer::from_json(const nlohmann::json& j, const std::string& path) {
  PreTokenizer p;
  p.add_json(j, path, 0);
  return p;
}

namespace {
SplitBehavior behavior_of(const std::string& name, const std::string& path) {
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  throw Error(path, "Split pre-tokenizer: unknown behavior '" + name + "'");
}

// Metaspace "prepend_scheme" (or the legacy "add_prefix_space").
PreTokenizer::Prepend prepend_of(const nlohmann::json& j) {
  std::string s = "always";
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) s = j["prepend_scheme"];
  else if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean() && !j["add_prefix_space"].get<bool>())
    s = "never";
  return s == "first" ? PreTokenizer::Prepend::First
         : s == "never" ? PreTokenizer::Prepend::Never
                        : PreTokenizer::Prepend::Always;
}
}  // namespace

void PreTokenizer::add_json(const nlohmann::json& j, const std::string& path, int depth) {
  if (j.is_null()) return;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(path, "pre_tokenizer: expected an object with a \"type\"");
  const std::string type = j["type"].get<std::string>();
  auto iso = [&](const std::string& re, SplitBehavior b, bool invert) {
    add_split(std::make_shared<Regex>(re, path, Regex::kMultiline), b, invert);
  };
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      throw Error(path, "pre_tokenizer Sequence without \"pretokenizers\" array");
    for (const auto& s : j["pretokenizers"]) add_json(s, path, depth + 1);
  } else if (type == "ByteLevel") {
    if (j.value("add_prefix_space", false)) add_prefix_space();
    if (j.value("use_regex", true)) iso(kGpt2SplitRegex, SplitBehavior::Isolated, false);
  } else if (type == "Metaspace") {
    add_metaspace(j.value("replacement", std::string("\xE2\x96\x81")), prepend_of(j), j.value("split", true));
  } else if (type == "Split") {
    if (!j.contains("pattern") || !j["pattern"].is_object()) throw Error(path, "Split pre-tokenizer without pattern");
    const nlohmann::json& pat = j["pattern"];
    SplitBehavior b = behavior_of(j.value("behavior", std::string("Isolated")), path);
    bool invert = j.value("invert", false);
    if (pat.contains("Regex") && pat["Regex"].is_string())
      add_split(std::make_shared<Regex>(pat["Regex"].get<std::string>(), path, Regex::kMultiline), b, invert);
    else if (pat.contains("String") && pat["String"].is_string())
      add_split(std::make_shared<Regex>(pat["String"].get<std::string>(), path, Regex::kLiteral), b, invert);
    else
      throw Error(path, "Split pre-tokenizer: pattern must be {\"Regex\": ...} or {\"String\": ...}");
  } else if (type == "Digits") {
    iso(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", SplitBehavior::Isolated, false);
  } else if (type == "Whitespace") {
    iso("\\w+|[^\\w\\s]+", SplitBehavior::Removed, true);
  } else if (type == "WhitespaceSplit") {
    iso("\\s+", SplitBehavior::Removed, false);
  } else if (type == "Punctuation") {
    iso("[\\p{P}!-/:-@\\[-`{-~]", SplitBehavior::Isolated, false);
  } else {
    throw Error(path, "unsupported pre_tokenizer type '" + type + "'");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// llama.cpp pre-tokenizer types (regex lists as in llama.cpp build 4748, src/llama-vocab.cpp).

const char* const kGpt2SplitRegex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

namespace {
// llama.cpp's GPT-2 regex lacks the final `|\s+`; a whitespace run it leaves unmatched becomes its own piece
// (the gap between matches), which is what `\s+` would produce, so the two are equivalent.
const char* const kLcGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char* const kLcLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kLcQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// llama.cpp matches regexes that name explicit non-ASCII characters with std::wregex on a copy of the text where
// every non-ASCII whitespace code point has been replaced by U+000B. Such a code point therefore never matches an
// explicit character range (e.g. U+3000 in "　-。" or U+2000..U+200A inside "ࠀ-一"), although it still matches \s.
// The `(?:(?!\s)[...])` wrapping reproduces that on the original text (the classes hold no ASCII whitespace).
// (Written with \x{...} escapes: several of these code points, e.g. U+1FD3, U+1F7D, U+2126, U+212A, are changed
// by Unicode normalisation, so the literal characters are not safe in source text.)
const char* const kDeepseekLlmLetters =
    "\\s?(?:(?!\\s)["
    "\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
    "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}-\\x{377}"
    "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
    "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
    "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
    "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
    "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
    "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}-\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}-\\x{2CF3}\\x{A640}-\\x{A66D}"
    "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
    "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}"
    "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
    "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"
    "])+";
const char* const kDeepseekLlmPunct =
    "\\s?(?:(?!\\s)[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}])+";
const char* const kDeepseekCjk = "(?:(?!\\s)[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}])+";

void add_isolated(PreTokenizer& p, const char* re, const std::string& path) {
  p.add_split(std::make_shared<Regex>(re, path, Regex::kDollarEndOnly), SplitBehavior::Isolated, false);
}
}  // namespace

LlamaCppPreType llamacpp_pretokenizer(const std::string& pre, const std::string& path) {
  LlamaCppPreType t;
  auto regs = [&](std::initializer_list<const char*> list) {
    for (const char* r : list) add_isolated(t.pretok, r, path);
  };
  if (pre.empty() || pre == "default") {
    regs({"[\\p{P}\\$\\+<=>\\^~\\|]+", kLcGpt2, "\\p{N}+", "[0-9][0-9][0-9]"});
  } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3") {
    regs({kLcLlama3});
    t.ignore_merges = true;
    t.add_bos = true;
    t.clean_spaces = false;
  } else if (pre == "dbrx" || pre == "smaug-bpe") {
    regs({kLcLlama3});
  } else if (pre == "deepseek-llm") {
    regs({"[\r\n]", kDeepseekLlmLetters, kDeepseekLlmPunct, "\\s+$", kDeepseekCjk, "\\p{N}+"});
    t.clean_spaces = false;
  } else if (pre == "deepseek-coder") {
    regs({"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kDeepseekCjk, "\\p{N}"});
    t.clean_spaces = false;
  } else if (pre == "falcon") {
    regs({"[\\p{P}\\$\\+<=>\\^~\\|`]+", kLcGpt2, "[0-9][0-9][0-9]"});
  } else if (pre == "mpt" || pre == "gpt-2" || pre == "phi-2" || pre == "jina-es" || pre == "jina-de" ||
             pre == "gigachat" || pre == "jina-v1-en" || pre == "jina-v2-es" || pre == "jina-v2-de" ||
             pre == "jina-v2-code" || pre == "roberta-bpe" || pre == "olmo" || pre == "jais") {
    regs({kLcGpt2});
  } else if (pre == "starcoder" || pre == "refact" || pre == "smollm" || pre == "codeshell" || pre == "exaone" ||
             pre == "minerva-7b") {
    regs({"\\p{N}", kLcGpt2});
    if (pre == "smollm") t.clean_spaces = false;
  } else if (pre == "command-r") {
    regs({"\\p{N}", kLcGpt2});
    t.clean_spaces = false;
  } else if (pre == "qwen2" || pre == "stablelm2") {
    regs({kLcQwen2});
    if (pre == "qwen2") t.clean_spaces = false;
  } else {
    throw Error(path, "unknown pre-tokenizer type tokenizer.ggml.pre = '" + pre + "'");
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte-level table

namespace {
struct ByteTable {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};
  std::array<char, 512> utf8{};  // 2 bytes per entry
  std::array<uint8_t, 256> utf8_len{};
  ByteTable() {
    to_byte.fill(-1);
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<uint32_t>(b) : 256 + n++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
      std::string s;
      utf8::append(s, to_char[b]);
      utf8_len[b] = static_cast<uint8_t>(s.size());
      for (size_t k = 0; k < s.size(); ++k) utf8[2 * b + k] = s[k];
    }
  }
};
const ByteTable& byte_table() {
  static const ByteTable t;  // immutable after construction
  return t;
}
}  // namespace

uint32_t byte_to_char(uint8_t b) { return byte_table().to_char[b]; }
int char_to_byte(uint32_t cp) { return cp < 512 ? byte_table().to_byte[cp] : -1; }
std::string_view byte_char_utf8(uint8_t b) {
  const ByteTable& t = byte_table();
  return std::string_view(&t.utf8[2 * b], t.utf8_len[b]);
}

bool byte_level_decode(std::string_view s, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp = utf8::decode(s, i);
    int b = cp < 0 ? -1 : char_to_byte(static_cast<uint32_t>(cp));
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace lmgen
