// The built-in record filters (SPEC.md "filters"): their option tables and factories. The
// registry (lib/app/registry.cc) lists them by `type:`. Each factory reads a validated
// section and throws std::invalid_argument naming the file, line and key for a value the
// option types cannot check (a bad regex, a missing nested key).
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/config/options.h"
#include "ferry/core/router.h"

namespace ferry::filter {

using FilterPtr = std::unique_ptr<core::Filter>;

const config::OptionTable& addFieldsOptions();
FilterPtr makeAddFields(const config::Section& section);

const config::OptionTable& removeFieldsOptions();
FilterPtr makeRemoveFields(const config::Section& section);

const config::OptionTable& renameFieldsOptions();
FilterPtr makeRenameFields(const config::Section& section);

const config::OptionTable& grepOptions();
FilterPtr makeGrep(const config::Section& section);

const config::OptionTable& sampleOptions();
FilterPtr makeSample(const config::Section& section);

const config::OptionTable& parseOptions();
FilterPtr makeParse(const config::Section& section);

const config::OptionTable& concatPartialOptions();
FilterPtr makeConcatPartial(const config::Section& section);

// concat_partial's reassembly with these settings (the multiline filter's partial_message mode).
FilterPtr makePartialMessageJoin(std::string key, size_t max_bytes,
                                 std::chrono::milliseconds timeout, size_t max_groups);

const config::OptionTable& multilineOptions();
FilterPtr makeMultiline(const config::Section& section);

const config::OptionTable& ecsMetadataOptions();
FilterPtr makeEcsMetadata(const config::Section& section);
// The fields ecs_metadata adds, from the task document (${URI}/task) and the container
// document (${URI}, its Labels fill what the task document lacks).
std::expected<std::vector<std::pair<std::string, std::string>>, std::string>
ecsFieldsFromDocuments(const std::string& task_json, const std::string& container_json);

// The filters a config runs, in order: a concat_partial filter (defaults, match "*") goes
// first when the config has a forward input and declares no concat_partial of its own (one
// with `enabled: false` turns it off; a multiline filter in mode partial_message stands for one).
std::vector<config::Section> effectiveFilters(const config::Config& config);

// Adds fields to records (add_fields, ecs_metadata). `overwrite`: an existing field of the
// same name takes the new value; otherwise the record's own value stays.
class FieldAdder {
public:
  FieldAdder(std::vector<std::pair<std::string, std::string>> fields, bool overwrite)
      : fields_(std::move(fields)), overwrite_(overwrite) {}
  core::BatchRef apply(core::BatchRef batch) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

private:
  std::vector<std::pair<std::string, std::string>> fields_;
  bool overwrite_;
};

// "file:line: filter 'name': key: why" — the message factories throw.
[[noreturn]] void badOption(const config::Section& section, const std::string& key,
                            const std::string& why);

} // namespace ferry::filter
