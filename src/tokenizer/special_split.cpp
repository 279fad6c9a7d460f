// llama.cpp's special-token partition (see special_split.hpp).
#include "tokenizer/special_split.hpp"

#include <algorithm>
#include <cctype>

namespace lmgen {

std::vector<SpecialText> special_texts(const Vocab& v) {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < v.size(); ++id)
    if (v.attr(id) & (Vocab::kControl | Vocab::kUserDefined | Vocab::kUnknown)) ids.push_back(id);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return v.text(a).size() > v.text(b).size(); });
  std::vector<SpecialText> specials;
  for (int32_t id : ids) {
    const uint32_t a = v.attr(id);
    if (!v.text(id).empty())
      specials.push_back({id, v.text(id), v.is_special(id), (a & Vocab::kLStrip) != 0, (a & Vocab::kRStrip) != 0});
  }
  return specials;
}

void split_specials(std::string_view text, const std::vector<SpecialText>& specials, bool parse_special,
                    std::vector<Fragment>& frags) {
  frags.clear();
  if (text.empty()) return;
  frags.push_back(Fragment{-1, 0, text.size()});
  std::vector<Fragment> next;
  auto is_ws = [&](size_t i) { return std::isspace(static_cast<unsigned char>(text[i])) != 0; };
  for (const SpecialText& sp : specials) {
    if (!parse_special && sp.needs_parse_special) continue;
    next.clear();
    bool changed = false;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t pos = f.begin;
      while (pos < f.end) {
        size_t hit = text.substr(0, f.end).find(sp.text, pos);
        if (hit == std::string_view::npos) break;
        changed = true;
        size_t left_end = hit;
        if (sp.lstrip)
          while (left_end > pos && is_ws(left_end - 1)) --left_end;
        if (left_end > pos) next.push_back(Fragment{-1, pos, left_end});
        next.push_back(Fragment{sp.id, hit, hit + sp.text.size()});
        pos = hit + sp.text.size();
        if (sp.rstrip)
          while (pos < f.end && is_ws(pos)) ++pos;
      }
      if (pos < f.end) next.push_back(Fragment{-1, pos, f.end});
    }
    if (changed) frags.swap(next);
  }
}

}  // namespace lmgen
