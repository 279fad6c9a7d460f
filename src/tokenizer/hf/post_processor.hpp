// The HF tokenizer.json `post_processor` for a single sequence, for every tokenizer.json: TemplateProcessing,
// RobertaProcessing / BertProcessing (<cls> $A <sep>), ByteLevel (nothing to add) and Sequences of those, applied
// in order. Internal to the library.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen {

class PostProcessor {
 public:
  PostProcessor() = default;
  // `lookup` gives the id of a special token named in a template but not described in its special_tokens.
  PostProcessor(const nlohmann::json& j, const std::string& path,
                const std::function<int32_t(const std::string&)>& lookup);
  bool empty() const { return templates_.empty(); }
  std::vector<int32_t> apply(const std::vector<int32_t>& ids) const;
  // Id of the special token a single sequence starts with (-1 if none): the BOS it adds.
  int32_t first_special() const;
  int32_t max_id() const;  // largest id it adds (-1 if none)

 private:
  struct Item {
    bool sequence = false;  // $A
    std::vector<int32_t> ids;
  };
  void add(const nlohmann::json& j, const std::string& path,
           const std::function<int32_t(const std::string&)>& lookup);
  std::vector<std::vector<Item>> templates_;  // applied in order
};

}  // namespace lmgen
