// Helpers for the filter tests: build a filter from YAML through the real config loader
// (so option validation is exercised too), make batches, and read records back as JSON.
#pragma once

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <string>
#include <vector>

#include "ferry/app/registry.h"
#include "ferry/codec/json.h"
#include "ferry/config/config.h"
#include "ferry/filter/filters.h"

namespace ferry::test {

inline config::Config loadFilters(const std::string& filters_yaml) {
  static const config::OptionTable kNoOptions;
  const config::TableLookup tables = [](const std::string& kind,
                                        const std::string& type) -> const config::OptionTable* {
    return kind == "output" ? &kNoOptions : app::builtinOptions(kind, type);
  };
  config::ConfigSource source{"test.yaml", "",
                              "inputs:\n  - type: stdin\nfilters:\n" + filters_yaml +
                                  "outputs:\n  - type: sink\n"};
  return config::load(source, tables, [](const std::string&) { return std::nullopt; });
}

// The first filter of `filters_yaml` (a YAML list item, indented by two spaces).
inline filter::FilterPtr makeFilter(const std::string& filters_yaml) {
  const config::Config c = loadFilters(filters_yaml);
  const auto& s = c.filters.at(0);
  return app::findFilterType(s.type)->make(s);
}

// A msgpack map from (key, JSON-ish value) pairs: strings, or ints when `ints` names them.
inline std::string packFields(const std::vector<std::pair<std::string, std::string>>& fields,
                              const std::vector<std::string>& ints = {}) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(static_cast<uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) {
    pk.pack(k);
    if (std::find(ints.begin(), ints.end(), k) != ints.end()) {
      pk.pack(std::stoll(v));
    } else {
      pk.pack(v);
    }
  }
  return {buf.data(), buf.size()};
}

inline core::BatchRef mapBatch(const std::string& tag, const std::vector<std::string>& maps) {
  auto b = core::Batch::create(tag, core::RecordFormat::kMsgpackMap);
  int64_t ts = 1;
  for (const auto& m : maps)
    b->append(ts++ * 1'000'000'000, m);
  return b;
}

inline core::BatchRef lineBatch(const std::string& tag, const std::vector<std::string>& lines) {
  auto b = core::Batch::create(tag, core::RecordFormat::kLine);
  int64_t ts = 1;
  for (const auto& l : lines)
    b->append(ts++ * 1'000'000'000, l);
  return b;
}

// Each record as compact JSON without the time.
inline std::vector<std::string> recordsJson(const core::Batch& b) {
  std::vector<std::string> out;
  codec::RecordJsonOptions options;
  options.time_key = "";
  for (size_t i = 0; i < b.size(); ++i) {
    core::ByteBuffer buf;
    EXPECT_TRUE(codec::appendRecordJson(buf, b.format(), b.record(i), options));
    out.emplace_back(buf.view());
  }
  return out;
}

} // namespace ferry::test
