// HF post-processors (see post_processor.hpp).
#include "tokenizer/hf/post_processor.hpp"

#include <algorithm>

#include "lmgen/error.hpp"

namespace lmgen {

using nlohmann::json;


PostProcessor::PostProcessor(const json& j, const std::string& path,
                             const std::function<int32_t(const std::string&)>& lookup) {
  if (!j.is_null()) add(j, path, lookup);
}

void PostProcessor::add(const json& j, const std::string& path,
                        const std::function<int32_t(const std::string&)>& lookup) {
  std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const json& p : j.at("processors")) add(p, path, lookup);
    return;
  }
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "RobertaProcessing" || type == "BertProcessing") {  // <cls> $A <sep>
    auto special = [&](const char* key) {
      if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 || !j[key][1].is_number_integer())
        throw Error(path, type + " post-processor: bad \"" + key + "\"");
      int64_t v = j[key][1].get<int64_t>();
      if (v < 0 || v >= (int64_t{1} << 24)) throw Error(path, type + " post-processor: id out of range");
      return Item{false, {static_cast<int32_t>(v)}};
    };
    templates_.push_back({special("cls"), Item{true, {}}, special("sep")});
    return;
  }
  if (type != "TemplateProcessing") throw Error(path, "unsupported post-processor type '" + type + "'");
  static const json no_specials = json::object();
  const json& specials = j.contains("special_tokens") ? j["special_tokens"] : no_specials;
  std::vector<Item> items;
  for (const json& it : j.at("single")) {
    if (it.contains("Sequence")) {
      items.push_back({true, {}});
    } else if (it.contains("SpecialToken")) {
      std::string name = it["SpecialToken"].at("id");
      Item item;
      if (specials.contains(name) && specials[name].contains("ids")) {
        for (const json& id : specials[name]["ids"]) {
          int64_t v = id.get<int64_t>();
          if (v < 0 || v >= (int64_t{1} << 24))
            throw Error(path, "post-processor special token '" + name + "' has id " + std::to_string(v) +
                                  " out of range");
          item.ids.push_back(static_cast<int32_t>(v));
        }
      } else {
        int32_t id = lookup(name);
        if (id < 0) throw Error(path, "post-processor names unknown special token '" + name + "'");
        item.ids.push_back(id);
      }
      items.push_back(std::move(item));
    } else {
      throw Error(path, "post-processor template item is neither a SpecialToken nor a Sequence");
    }
  }
  templates_.push_back(std::move(items));
}

std::vector<int32_t> PostProcessor::apply(const std::vector<int32_t>& ids) const {
  std::vector<int32_t> cur = ids;
  for (const auto& tpl : templates_) {
    std::vector<int32_t> next;
    next.reserve(cur.size() + 4);
    for (const Item& it : tpl) {
      if (it.sequence)
        next.insert(next.end(), cur.begin(), cur.end());
      else
        next.insert(next.end(), it.ids.begin(), it.ids.end());
    }
    cur = std::move(next);
  }
  return cur;
}

int32_t PostProcessor::first_special() const {
  if (templates_.empty() || templates_.front().empty()) return -1;
  const Item& it = templates_.front().front();
  return !it.sequence && !it.ids.empty() ? it.ids.front() : -1;
}

int32_t PostProcessor::max_id() const {
  int32_t m = -1;
  for (const auto& tpl : templates_)
    for (const Item& it : tpl)
      for (int32_t id : it.ids) m = std::max(m, id);
  return m;
}

}  // namespace lmgen
