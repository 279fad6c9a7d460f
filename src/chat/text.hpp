// UTF-8 text helpers with Python str semantics: code points, whitespace, case mapping, strip, split, splitlines.
//
// Python strings are sequences of code points, so len(), indexing, slicing and str methods count code points,
// not bytes. Invalid UTF-8 (possible in a template literal) is taken byte by byte, each byte one code point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen::chat::text {

// Decodes the code point at s[pos] (util/utf8's decoder; an ill-formed byte is the code point of its value) and
// advances pos. Code points are written back with utf8::append.
char32_t next_cp(std::string_view s, size_t& pos);
std::vector<std::string_view> code_points(std::string_view s);  // one view per code point
size_t cp_count(std::string_view s);

bool is_space(char32_t cp);  // str.isspace()
bool is_alpha(char32_t cp);  // letters (Unicode categories L*)
bool is_digit(char32_t cp);  // decimal digits (Nd)
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);  // str.capitalize()
std::string py_title(std::string_view s);  // str.title()
bool is_lower(std::string_view s);  // str.islower()
bool is_upper(std::string_view s);

// str.strip / lstrip / rstrip; chars == nullptr strips whitespace.
std::string_view strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit) / rsplit; sep == nullptr splits on runs of whitespace.
std::vector<std::string> split(std::string_view s, const std::string* sep, long maxsplit, bool from_right);
std::vector<std::string> splitlines(std::string_view s, bool keepends = false);
std::string html_escape(std::string_view s);  // markupsafe.escape: & < > " '
std::string replace(std::string_view s, std::string_view from, std::string_view to, long count, size_t max_bytes);

}  // namespace lmgen::chat::text
