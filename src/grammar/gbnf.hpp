// GBNF: llama.cpp's grammar dialect, parsed into a flat, checked rule table the matcher walks.
//
// The dialect (llama.cpp grammars/README.md):
//   rule      ::= name "::=" alternates NEWLINE        names are [a-zA-Z0-9-]+; "root" is the start symbol
//   alternates::= sequence ("|" sequence)*            an empty sequence is allowed (matches nothing)
//   sequence  ::= (item postfix?)*                    items: "literal", [class], [^class], ., name, ( alternates )
//   postfix   ::= * | + | ? | {m} | {m,} | {m,n}
//   literal and class escapes: \n \t \r \\ \" \[ \] \xNN \uNNNN \UNNNNNNNN; "#" starts a comment to end of line.
// Newlines end a rule except inside parentheses and right after "|". Other characters are UTF-8 code points.
// Repetitions are rewritten into generated rules (x* -> r ::= x r | ; x{2,4} -> x x (x (x)?)?) as llama.cpp does,
// so the matcher only knows sequences, alternatives, rule references and character sets.
//
// Errors (lmgen::Error) name line:column: syntax errors, an undefined rule, a missing root, left recursion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen::grammar {

// One element of a rule body. A rule is a run of elements: alternatives separated by Alt, closed by End.
enum class Op : uint8_t {
  End,      // end of the rule's last alternative
  Alt,      // end of one alternative (another follows)
  RuleRef,  // arg = rule index
  Char,     // a code point in ranges[arg .. arg + count)
  CharNot,  // a code point in none of ranges[arg .. arg + count)
  CharAny,  // any code point (".")
};

struct Elem {
  Op op = Op::End;
  uint32_t arg = 0;    // RuleRef: rule; Char/CharNot: first range
  uint32_t count = 0;  // Char/CharNot: number of ranges
};

struct CharRange {
  uint32_t lo, hi;  // inclusive code points
};

struct Grammar {
  std::vector<Elem> elems;             // every rule's body, one after the other
  std::vector<CharRange> ranges;       // the character classes' ranges
  std::vector<uint32_t> rule_start;    // rule i starts at elems[rule_start[i]]
  std::vector<std::string> rule_names; // for messages; generated rules are "name_N"
  uint32_t root = 0;                   // index of "root"

  bool is_char(uint32_t pos) const { return elems[pos].op >= Op::Char; }
  // Whether element pos (a Char/CharNot/CharAny) accepts code point cp.
  bool char_matches(uint32_t pos, uint32_t cp) const;
  // Whether element pos accepts some code point in [lo, hi].
  bool char_matches_any(uint32_t pos, uint32_t lo, uint32_t hi) const;
  // The element as GBNF text ("[a-z]", "[^\"]", "."), for "expected ..." messages.
  std::string describe_char(uint32_t pos) const;
};

// Parses and checks GBNF text. Throws lmgen::Error("grammar: LINE:COL: what") on any problem.
Grammar parse_gbnf(std::string_view text);

}  // namespace lmgen::grammar
