// The Fluent Bit classic config converter's private parts (fluent_bit.cc, fluent_bit_filters.cc,
// fluent_bit_outputs.cc): Keys, one section's keys as the mapping consumes them (each key
// mapped, accepted as a Fluent Bit internal and listed as a note, or reported as an error with
// its file and line), and Converter, which maps the sections that Reader read to ferry's YAML
// (service, inputs, filters, outputs) and sums the inputs' and outputs' memory budgets.
#pragma once

#include "fluent_bit_reader.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::config::fluent_bit {

// One section's keys as the mapping consumes them: whatever is left over is an error.
class Keys {
public:
  Keys(const FbSection& s, std::vector<Diagnostic>& errors, std::vector<std::string>& notes)
      : s_(s), used_(s.entries.size(), false), errors_(errors), notes_(notes) {
    take("name");
  }
  // The value of `key`. Keys may repeat: in a plugin's section the last one wins, as in
  // Fluent Bit; in a [PARSER] or [MULTILINE_PARSER] the first (Fluent Bit reads those with
  // flb_cf_section_property_get, which returns the first: the aws-for-fluent-bit image's
  // syslog-rfc3164 has two Time_Format lines and uses the first).
  const Entry* take(const std::string& key) {
    const Entry* found = nullptr;
    for (size_t i = 0; i < s_.entries.size(); ++i) {
      if (s_.entries[i].lower == key) {
        used_[i] = true;
        if (!found || !first_wins_) found = &s_.entries[i];
      }
    }
    return found;
  }
  void firstWins() { first_wins_ = true; }
  // Accepted, but it only tunes Fluent Bit (or ferry does it its own way): said in a comment.
  void internal(const std::string& key, const std::string& why) {
    if (const Entry* e = take(key)) {
      notes_.push_back(fmt::format("{}:{}: {} {}: ignored{}{}", e->file, e->line, s_.title(),
                                   e->key, why.empty() ? "" : ", ", why));
    }
  }
  void error(const Entry& e, const std::string& message) {
    errors_.push_back({e.file, e.line, fmt::format("{} {}", s_.title(), e.key), message});
  }
  void error(const std::string& message) {
    errors_.push_back({s_.file, s_.line, s_.title(), message});
  }
  // Every key not consumed is an error.
  void finish() {
    for (size_t i = 0; i < s_.entries.size(); ++i) {
      if (!used_[i]) error(s_.entries[i], "has no ferry equivalent");
    }
  }
  const FbSection& section() const { return s_; }
  std::vector<bool>& used() { return used_; }

private:
  const FbSection& s_;
  std::vector<bool> used_;
  std::vector<Diagnostic>& errors_;
  std::vector<std::string>& notes_;
  bool first_wins_ = false;
};

class Converter {
public:
  Converter(Reader& reader) : r_(reader) {}

  std::string run(const std::string& name);

private:
  // ---- [SERVICE]
  void convertService(const FbSection& s, YAML::Node& service);

  // ---- [INPUT]
  void convertInput(const FbSection& s);

  // Fluent Bit's in_tcp. Chunk_Size and Buffer_Size are in KiB there (a bare number; a unit
  // after it is ignored, as atoi does); Buffer_Size defaults to Chunk_Size.
  void convertTcp(Keys& k);

  // Mem_Buf_Limit, or with storage.type filesystem storage.max_chunks_up chunks of 2 MiB
  // (Fluent Bit ignores Mem_Buf_Limit there): what this input may hold in memory. Summed
  // into the outputs' buffer.max_bytes (see budgets()).
  void inputBudget(Keys& k);

  // The budget rule (README "Fluent Bit configs"): the inputs' memory limits, summed, are
  // split evenly among the outputs that hold records (all but null) as buffer.max_bytes, so
  // ferry holds no more than Fluent Bit was allowed to. The outputs' storage.total_limit_size,
  // summed, becomes service.storage.max_bytes.
  void budgets(YAML::Node& service);

  // ---- [FILTER]
  static std::string matchOf(Keys& k);

  // A record key as Fluent Bit writes it: "log" or "$log"; nested accessors do not map.
  std::optional<std::string> recordKey(Keys& k, const Entry& e, std::string_view key);

  // "KEY REST..." → (KEY, REST)
  static std::pair<std::string, std::string> split2(const std::string& v);

  YAML::Node filterNode(const std::string& type, const std::string& match, const Entry* alias);

  // The last [kind] section whose Name is `name` ([PARSER], [MULTILINE_PARSER]), or nullptr.
  const FbSection* sectionNamed(const std::string& kind, const std::string& name) const;

  // Fluent Bit's regex (Onigmo) as the native pattern of the same meaning, or an error.
  std::optional<std::string> nativeRegex(Keys& k, const Entry& e, const std::string& regex);

  void convertFilter(const FbSection& s);

  void convertModify(const FbSection& s, Keys& k, const std::string& match, const Entry* alias);

  void convertParser(Keys& k, const std::string& match, const Entry* alias);

  // A [PARSER] section into the parse filter's options, with Fluent Bit's defaults where
  // ferry's differ (Time_Keep Off, Skip_Empty_Values On).
  bool convertParserSection(const FbSection& def, YAML::Node& f);

  // A count of milliseconds (the filter's flush_ms) as a ferry duration, or an error.
  static std::optional<std::string> millis(Keys& k, const Entry& e);

  // The multiline filter: built-in parsers by name, [MULTILINE_PARSER]s as the filter's
  // `custom` parsers (in the order named), or mode partial_message.
  void convertMultiline(Keys& k, const std::string& match, const Entry* alias);

  // A [MULTILINE_PARSER] as the text of one of the filter's `custom` parsers: type regex → its
  // rules (regexes made native), one per line; endswith / equal → `endswith "STRING"`.
  std::optional<std::string> convertMultilineParser(const FbSection& def);

  // The `rule` lines of a [MULTILINE_PARSER] type regex, one per line, regexes made native.
  std::optional<std::string> multilineRules(Keys& p, const FbSection& def);

  // ---- [OUTPUT]
  void convertOutput(const FbSection& s);

  void copy(Keys& k, YAML::Node& out, const char* fb, const char* ferry);

  void datadog(Keys& k, YAML::Node& out);

  void firehose(Keys& k, YAML::Node& out);

  // `kinesis_streams` (Fluent Bit's C plugin: random partition keys, a newline after each
  // record) and `kinesis` (aws-for-fluent-bit's Go plugin: partition_key, append_newline
  // off by default) → ferry's kinesis_streams.
  void kinesis(Keys& k, YAML::Node& out, bool go_plugin);

  // Fluent Bit's cloudwatch_logs (C) and the aws-for-fluent-bit image's cloudwatch (Go): the
  // same names, templates included ($(var) and $TAG / $field['sub'] read the same in ferry).
  void cloudwatchLogs(Keys& k, YAML::Node& out, bool go);

  void s3(Keys& k, YAML::Node& out);

  void stdoutOutput(Keys& k, YAML::Node& out);

  Reader& r_;
  std::vector<std::string> notes_;
  std::string flush_;
  YAML::Node inputs_{YAML::NodeType::Sequence};
  YAML::Node filters_{YAML::NodeType::Sequence};
  YAML::Node outputs_{YAML::NodeType::Sequence};
  int filters_from_section_ = 0;
  static constexpr uint64_t kChunkBytes = 2 * 1024 * 1024; // Fluent Bit's chunk size target
  static constexpr uint64_t kMinOutputBudget = 1024 * 1024;
  uint64_t max_chunks_up_ = 128; // [SERVICE] storage.max_chunks_up, Fluent Bit's default
  uint64_t memory_budget_ = 0;   // the inputs' Mem_Buf_Limit (or chunks up), summed
  uint64_t storage_budget_ = 0;  // the outputs' storage.total_limit_size, summed
  std::vector<std::string> budget_sources_;
};

} // namespace ferry::config::fluent_bit
