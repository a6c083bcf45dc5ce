// grep (keep or drop records by a regular expression on one field) and sample (keep one
// record in N). Both only drop records, so they edit the batch's index in place: the record
// bytes are never copied. codec::Regex runs the pattern on RE2 (linear time) or, for what RE2
// cannot run (look-ahead, ...), on PCRE2 under a match limit: no pattern can backtrack for ever.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "ferry/codec/regex.h"
#include "ferry/filter/filters.h"
#include "ferry/filter/record.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;

// Keeps the records for which keep(i) is true, in order, by compacting the index.
template <typename Keep> core::BatchRef keepWhere(core::BatchRef batch, Keep&& keep) {
  auto& entries = batch->mutableEntries();
  size_t out = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (keep(i)) entries[out++] = entries[i];
  }
  entries.resize(out);
  return batch;
}

struct Rule {
  std::string field;
  codec::Regex regex;
};

class GrepFilter final : public core::Filter {
public:
  GrepFilter(std::optional<Rule> include, std::optional<Rule> exclude)
      : include_(std::move(include)), exclude_(std::move(exclude)) {}

  core::BatchRef apply(core::BatchRef batch) override {
    const core::Batch& b = *batch;
    return keepWhere(std::move(batch), [&](size_t i) {
      const std::string_view data = b.record(i).data;
      if (include_ && !matches(*include_, b.format(), data)) return false;
      if (exclude_ && matches(*exclude_, b.format(), data)) return false;
      return true;
    });
  }

private:
  // A record without the field (or whose field is not a scalar) does not match.
  bool matches(const Rule& rule, core::RecordFormat format, std::string_view data) {
    std::string_view text;
    if (format == core::RecordFormat::kLine) {
      if (rule.field != "log") return false;
      text = data;
    } else {
      if (!splitFields(format, data, fields_, stack_)) return false;
      const Field* f = findField(fields_, rule.field);
      if (f == nullptr || !fieldText(*f, scratch_, text)) return false;
    }
    return rule.regex.search(text);
  }

  std::optional<Rule> include_;
  std::optional<Rule> exclude_;
  std::vector<Field> fields_;
  std::vector<uint64_t> stack_;
  std::string scratch_;
};

class SampleFilter final : public core::Filter {
public:
  explicit SampleFilter(uint64_t rate) : rate_(rate) {}
  core::BatchRef apply(core::BatchRef batch) override {
    if (rate_ <= 1) return batch;
    // The count runs across batches: one record in rate_ whatever the batch sizes.
    return keepWhere(std::move(batch), [this](size_t) { return seen_++ % rate_ == 0; });
  }

private:
  uint64_t rate_;
  uint64_t seen_ = 0;
};

std::expected<std::optional<Rule>, std::string> readRule(const config::Section& s,
                                                         const std::string& key) {
  if (!s.has(key)) return std::nullopt;
  const auto& map = s.getMap(key);
  for (const auto& [k, v] : map) {
    if (k != "field" && k != "regex") {
      return refuse(fmt::format("{}.{}", key, k), "unknown key (expected field and regex)");
    }
  }
  const auto field = map.find("field");
  const auto regex = map.find("regex");
  if (field == map.end() || field->second.empty()) return refuse(key + ".field", "required");
  if (regex == map.end()) return refuse(key + ".regex", "required");
  auto re = codec::Regex::compile(regex->second);
  if (!re) return refuse(key + ".regex", re.error());
  return Rule{field->second, std::move(*re)};
}

struct GrepRules {
  std::optional<Rule> include, exclude;
};

// What checkGrep and makeGrep both read: the regexes compiled.
std::expected<GrepRules, std::string> grepRules(const config::Section& s) {
  auto include = readRule(s, "include");
  if (!include) return std::unexpected(include.error());
  auto exclude = readRule(s, "exclude");
  if (!exclude) return std::unexpected(exclude.error());
  if (!*include && !*exclude) return refuse("include", "grep needs include, exclude or both");
  return GrepRules{std::move(*include), std::move(*exclude)};
}

} // namespace

const config::OptionTable& grepOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "include",
                 .type = OptionType::kStringMap,
                 .doc = "{field, regex}: keep only records whose field matches (RE2 syntax, "
                        "unanchored; look-around and back-references run on PCRE2). A record "
                        "without the field is dropped."},
      OptionSpec{.name = "exclude",
                 .type = OptionType::kStringMap,
                 .doc = "{field, regex}: drop records whose field matches. A record without "
                        "the field is kept."},
  };
  return table;
}

SettingsResult checkGrep(const config::Section& s) {
  return outcomeOf(grepRules(s));
}

FilterPtr makeGrep(const config::Section& s) {
  auto rules = settingsOrThrow(s, grepRules(s));
  return std::make_unique<GrepFilter>(std::move(rules.include), std::move(rules.exclude));
}

const config::OptionTable& sampleOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "rate",
                 .type = OptionType::kInt,
                 .required = true,
                 .min_value = 1,
                 .max_value = 1'000'000'000,
                 .doc = "Keep one record in `rate` (the 1st, the rate+1th, ...); 1 keeps all."},
  };
  return table;
}

FilterPtr makeSample(const config::Section& s) {
  return std::make_unique<SampleFilter>(static_cast<uint64_t>(s.getInt("rate")));
}

} // namespace ferry::filter
