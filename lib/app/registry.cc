// Registry of built-in inputs and filters: each type's option table, settings check (what
// the table cannot say, run at config load: registry.h SettingsCheck) and factory.
#include "ferry/app/registry.h"

#include <exception>

#include "ferry/codec/regex.h"
#include "ferry/filter/filters.h"
#include "ferry/input/forward.h"
#include "ferry/input/stdin_input.h"
#include "ferry/input/tail.h"
#include "ferry/input/tcp.h"

namespace ferry::app {
namespace {

// A check from a settings reading: its value is not kept (the factory reads it again).
template <typename Read> SettingsCheck checkBy(Read read) {
  return [read](const config::Section& s) -> std::expected<void, std::string> {
    return filter::outcomeOf(read(s));
  };
}

} // namespace

const std::vector<InputType>& inputTypes() {
  static const std::vector<InputType> types = {
      {"stdin", "Lines of standard input, one record each (field log).",
       &input::stdinInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeStdinInput(s); }},
      {"forward", "Fluent forward protocol v1 server (FireLens, fluent-logger, Fluent Bit).",
       &input::forwardInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeForwardInput(s); },
       checkBy(input::forwardSettings)},
      {"tail", "Follows files through rotation; positions saved once delivered (tail.db).",
       &input::tailInputOptions(),
       [](const config::Section& s, const InputEnvironment& env) {
         return input::makeTailInput(s, env.state_dir);
       },
       // tail.db's place does not matter to the check: it is opened at start.
       checkBy([](const config::Section& s) { return input::tailSettings(s, ""); })},
      {"tcp", "JSON or separated text over TCP (Fluent Bit's tcp input, FireLens' health check).",
       &input::tcpInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeTcpInput(s); },
       checkBy(input::tcpSettings)},
  };
  return types;
}

const std::vector<FilterType>& filterTypes() {
  static const std::vector<FilterType> types = {
      {"add_fields", "Adds fields (static values or ${VAR}).", &filter::addFieldsOptions(),
       filter::makeAddFields, filter::checkAddFields},
      {"remove_fields", "Removes top-level fields.", &filter::removeFieldsOptions(),
       filter::makeRemoveFields, filter::checkRemoveFields},
      {"rename_fields", "Renames top-level fields.", &filter::renameFieldsOptions(),
       filter::makeRenameFields, filter::checkRenameFields},
      {"grep", "Keeps or drops records by a regex on a field.", &filter::grepOptions(),
       filter::makeGrep, filter::checkGrep},
      {"parse", "Parses a field (json, logfmt, regex) into fields.", &filter::parseOptions(),
       filter::makeParse, filter::checkParse},
      {"sample", "Keeps one record in N.", &filter::sampleOptions(), filter::makeSample},
      {"concat_partial", "Reassembles Docker/containerd partial records (16 KiB splits).",
       &filter::concatPartialOptions(), filter::makeConcatPartial},
      {"multiline", "Joins multiline records.", &filter::multilineOptions(), filter::makeMultiline,
       filter::checkMultiline},
      {"ecs_metadata", "Adds ECS task metadata (cluster, task ARN, definition, region, AZ).",
       &filter::ecsMetadataOptions(), filter::makeEcsMetadata, filter::checkEcsMetadata},
  };
  return types;
}

const InputType* findInputType(const std::string& name) {
  for (const auto& t : inputTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const FilterType* findFilterType(const std::string& name) {
  for (const auto& t : filterTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const config::OptionTable* builtinOptions(const std::string& kind, const std::string& type) {
  if (kind == "input") {
    const auto* t = findInputType(type);
    return t ? t->options : nullptr;
  }
  if (kind == "filter") {
    const auto* t = findFilterType(type);
    return t ? t->options : nullptr;
  }
  return nullptr;
}

std::vector<config::Diagnostic> checkBuiltins(const config::Config& config) {
  // The factories compile the same regexes again at start: they say which run on PCRE2.
  const codec::QuietRegexEngineLog quiet;
  std::vector<config::Diagnostic> out;
  auto run = [&out](const SettingsCheck& check, const config::Section& s) {
    if (!check) return;
    std::expected<void, std::string> result;
    try {
      result = check(s);
    } catch (const std::exception& e) { // a reader that throws still names its section
      result = std::unexpected(std::string(e.what()));
    }
    if (!result) out.push_back(config::sectionDiagnostic(s, result.error()));
  };
  for (const auto& s : config.inputs) {
    if (const InputType* t = findInputType(s.type)) run(t->check, s);
  }
  for (const auto& s : config.filters) {
    if (const FilterType* t = findFilterType(s.type)) run(t->check, s);
  }
  return out;
}

} // namespace ferry::app
