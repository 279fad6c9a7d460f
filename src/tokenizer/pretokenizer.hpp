// Regex pre-tokenizers for byte-level BPE (GPT-2 family), on PCRE2 (UTF + UCP, JIT).
//
// A pre-tokenizer cuts a piece of text into "words" that BPE then encodes one by one. It is a sequence of steps;
// each step refines every current piece independently (a regex never sees across a piece boundary, as in both
// llama.cpp and HF tokenizers):
//   * RegexSplit(pattern, behavior, invert) — HF `Split` semantics; llama.cpp applies each of its regexes as an
//     Isolated split (matched runs and the gaps between them both become pieces);
//   * PrefixSpace — HF ByteLevel(add_prefix_space): a piece not starting with ' ' gets one prepended;
//   * Metaspace — HF Metaspace: ' ' becomes the replacement ("▁"), which is prepended as the prepend scheme says,
//     and (with split) the piece is cut before every replacement (MergedWithNext).
// Pieces are byte spans of a text buffer (a step that inserts spaces rebuilds the buffer).
//
// Also here: the GPT-2 byte <-> unicode-char table used by byte-level vocabularies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen {

struct Span {
  uint32_t begin = 0, end = 0;
};

// A compiled PCRE2 pattern (UTF, UCP, MATCH_INVALID_UTF, JIT when available). Immutable, thread-safe to use.
class Regex {
 public:
  enum Options : uint32_t {
    kLiteral = 1,        // the pattern is a plain string
    kDollarEndOnly = 2,  // `$` matches only at the very end (std::regex ECMAScript, as llama.cpp uses)
    kMultiline = 4,      // `^`/`$` match at line breaks (Oniguruma Ruby syntax, as HF tokenizers uses)
  };
  // Throws Error naming `where` on a bad pattern.
  Regex(const std::string& pattern, const std::string& where, uint32_t options = 0);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls on_match(begin, end) for each successive non-overlapping non-empty match in s (byte offsets).
  template <typename F>
  void for_each_match(std::string_view s, F&& on_match) const;

  const std::string& pattern() const { return pattern_; }

 private:
  // Finds the first match at or after `start`; returns false if none. Uses `md` (a pcre2_match_data*).
  bool find(std::string_view s, size_t start, void* md, size_t& mb, size_t& me) const;
  void* new_match_data() const;
  static void free_match_data(void* md);

  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code*
  bool jit_ = false;
};

template <typename F>
void Regex::for_each_match(std::string_view s, F&& on_match) const {
  void* md = new_match_data();
  struct Guard {
    void* md;
    ~Guard() { Regex::free_match_data(md); }
  } guard{md};
  size_t pos = 0, mb = 0, me = 0;
  while (pos <= s.size() && find(s, pos, md, mb, me)) {
    if (me > mb) {
      on_match(mb, me);
      pos = me;
    } else {
      // empty match: never a piece; step over one UTF-8 character
      pos = mb + 1;
      while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
}

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class PreTokenizer {
 public:
  PreTokenizer() = default;
  PreTokenizer(PreTokenizer&&) = default;
  PreTokenizer& operator=(PreTokenizer&&) = default;

  // Builds from a tokenizer.json "pre_tokenizer" value (null -> no step): ByteLevel, Split, Digits, Whitespace,
  // WhitespaceSplit, Punctuation, Metaspace and Sequences of those. Throws Error naming `path` otherwise.
  static PreTokenizer from_json(const nlohmann::json& j, const std::string& path);

  enum class Prepend { Always, First, Never };
  void add_split(std::shared_ptr<const Regex> re, SplitBehavior behavior, bool invert);
  void add_prefix_space();
  void add_metaspace(std::string replacement, Prepend prepend, bool split);
  bool empty() const { return steps_.empty(); }
  // True if a Metaspace step may put a replacement in front of the text (the decoder strips it again).
  bool prepends_space() const;

  // Splits `buf` (whole buffer is one piece to start with) into words. May rewrite `buf` (prefix spaces,
  // Metaspace). `out` receives the spans of the non-empty words, in order. `at_start`: the buffer starts the
  // input (Metaspace prepend scheme "first").
  void split(std::string& buf, std::vector<Span>& out, bool at_start = true) const;

 private:
  enum class Kind { Split, PrefixSpace, Metaspace };
  struct Step {
    Kind kind = Kind::Split;
    std::shared_ptr<const Regex> re;  // Split; Metaspace with split: the literal replacement
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    std::string replacement;  // Metaspace
    Prepend prepend = Prepend::Always;
  };
  void add_json(const nlohmann::json& j, const std::string& path, int depth);
  void rewrite(std::string& buf, std::vector<Span>& cur, const Step& st, bool at_start) const;
  std::vector<Step> steps_;
};

// The pre-tokenizer llama.cpp (build 4748) uses for a GGUF `tokenizer.ggml.pre` value ("" = missing key).
// Also reports the per-type vocabulary flags llama.cpp sets with it. Throws Error for an unknown type.
struct LlamaCppPreType {
  PreTokenizer pretok;
  bool ignore_merges = false;
  bool add_bos = false;       // default before the GGUF add_bos key is applied
  bool clean_spaces = true;   // llama.cpp detokenize clean-up of " ?", " 's" ...
};
LlamaCppPreType llamacpp_pretokenizer(const std::string& pre, const std::string& path);

// The GPT-2 pre-tokenizer regex (HF ByteLevel use_regex=true).
extern const char* const kGpt2SplitRegex;

// GPT-2 bytes_to_unicode: byte b is written as code point byte_char(b) in a byte-level vocabulary.
uint32_t byte_to_char(uint8_t b);
// Inverse: code point -> byte, or -1 if the code point is not one of the 256 byte characters.
int char_to_byte(uint32_t cp);
// UTF-8 of byte_to_char(b) (1 or 2 bytes).
std::string_view byte_char_utf8(uint8_t b);
// Decodes a byte-level string to raw bytes; false if some character is not a byte character (out unspecified).
bool byte_level_decode(std::string_view s, std::string& out);

}  // namespace lmgen
