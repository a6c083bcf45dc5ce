// add_fields, remove_fields and rename_fields: edits of a record's top-level fields. A
// batch none of whose records has a field concerned is passed on as it is (no copy).
#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "ferry/filter/filters.h"
#include "ferry/filter/record.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;

// Shared by the three: per record, split into fields, let `edit` change the list (it
// returns false when nothing changed), write the result.
template <typename Edit> core::BatchRef rewriteFields(core::BatchRef batch, Edit&& edit) {
  BatchRewriter rewriter(*batch, core::RecordFormat::kMsgpackMap);
  std::vector<Field> fields;
  std::vector<uint64_t> stack;
  for (size_t i = 0; i < batch->size(); ++i) {
    const core::RecordView r = batch->record(i);
    if (!splitFields(batch->format(), r.data, fields, stack) || !edit(fields)) {
      rewriter.keep(i);
      continue;
    }
    writeMap(rewriter.replace(i), fields);
    rewriter.commit(r.timestamp_ns);
  }
  return rewriter.finish(std::move(batch));
}

class AddFieldsFilter final : public core::Filter {
public:
  explicit AddFieldsFilter(FieldAdder adder) : adder_(std::move(adder)) {}
  core::BatchRef apply(core::BatchRef batch) override { return adder_.apply(std::move(batch)); }

private:
  FieldAdder adder_;
};

class RemoveFieldsFilter final : public core::Filter {
public:
  explicit RemoveFieldsFilter(std::vector<std::string> keys)
      : keys_(keys.begin(), keys.end()), removes_log_(keys_.contains("log")) {}

  core::BatchRef apply(core::BatchRef batch) override {
    if (batch->format() == core::RecordFormat::kLine && !removes_log_) return batch;
    return rewriteFields(std::move(batch), [this](std::vector<Field>& fields) {
      return std::erase_if(fields, [this](const Field& f) {
               return keys_.contains(std::string_view(f.key));
             }) > 0;
    });
  }

private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> keys_;
  bool removes_log_;
};

class RenameFieldsFilter final : public core::Filter {
public:
  RenameFieldsFilter(std::map<std::string, std::string> renames, bool overwrite)
      : renames_(std::move(renames)), overwrite_(overwrite) {}

  core::BatchRef apply(core::BatchRef batch) override {
    if (batch->format() == core::RecordFormat::kLine && !renames_.contains("log")) return batch;
    return rewriteFields(std::move(batch), [this](std::vector<Field>& fields) {
      bool changed = false;
      for (const auto& [from, to] : renames_) {
        if (from == to) continue;
        size_t source = fields.size();
        size_t taken = fields.size();
        for (size_t j = 0; j < fields.size(); ++j) {
          if (fields[j].key == from) source = j;
          if (fields[j].key == to) taken = j;
        }
        if (source == fields.size()) continue;
        if (taken != fields.size()) {
          if (!overwrite_) continue;
          // The renamed field replaces the one that had the name.
          fields.erase(fields.begin() + static_cast<ptrdiff_t>(taken));
          if (taken < source) --source;
        }
        fields[source].key = to;
        changed = true;
      }
      return changed;
    });
  }

private:
  std::map<std::string, std::string> renames_;
  bool overwrite_;
};

} // namespace

void badOption(const config::Section& s, std::string_view message) {
  throw std::invalid_argument(config::sectionDiagnostic(s, message).format());
}

void badOption(const config::Section& s, const std::string& key, const std::string& why) {
  badOption(s, refuse(key, why).error());
}

core::BatchRef FieldAdder::apply(core::BatchRef batch) const {
  if (fields_.empty()) return batch;
  return rewriteFields(std::move(batch), [this](std::vector<Field>& fields) {
    for (const auto& [key, value] : fields_) {
      Field* existing = nullptr;
      for (Field& f : fields) {
        if (f.key == key) existing = &f;
      }
      if (existing == nullptr) {
        fields.push_back({key, value, true});
      } else if (overwrite_) {
        *existing = {key, value, true};
      }
    }
    return true;
  });
}

const config::OptionTable& addFieldsOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "fields",
                 .type = OptionType::kStringMap,
                 .required = true,
                 .doc = "Fields to add, name: value (values may use ${VAR} like any option)."},
      OptionSpec{.name = "overwrite",
                 .type = OptionType::kBool,
                 .default_value = "true",
                 .doc = "When a record already has the field: true replaces its value, false "
                        "keeps the record's own."},
  };
  return table;
}

SettingsResult checkAddFields(const config::Section& s) {
  if (s.getMap("fields").empty()) return refuse("fields", "needs at least one field");
  return {};
}

FilterPtr makeAddFields(const config::Section& s) {
  settingsOrThrow(s, checkAddFields(s));
  std::vector<std::pair<std::string, std::string>> fields(s.getMap("fields").begin(),
                                                          s.getMap("fields").end());
  return std::make_unique<AddFieldsFilter>(FieldAdder(std::move(fields), s.getBool("overwrite")));
}

const config::OptionTable& removeFieldsOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "fields",
                 .type = OptionType::kStringList,
                 .required = true,
                 .doc = "Names of the top-level fields to remove."},
  };
  return table;
}

SettingsResult checkRemoveFields(const config::Section& s) {
  if (s.getList("fields").empty()) return refuse("fields", "needs at least one field name");
  return {};
}

FilterPtr makeRemoveFields(const config::Section& s) {
  settingsOrThrow(s, checkRemoveFields(s));
  return std::make_unique<RemoveFieldsFilter>(s.getList("fields"));
}

const config::OptionTable& renameFieldsOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "fields",
                 .type = OptionType::kStringMap,
                 .required = true,
                 .doc = "Renames, old_name: new_name (top-level fields)."},
      OptionSpec{.name = "overwrite",
                 .type = OptionType::kBool,
                 .default_value = "true",
                 .doc = "When new_name already exists: true replaces it, false leaves the "
                        "record unchanged."},
  };
  return table;
}

SettingsResult checkRenameFields(const config::Section& s) {
  const auto& renames = s.getMap("fields");
  if (renames.empty()) return refuse("fields", "needs at least one rename");
  for (const auto& [from, to] : renames) {
    if (to.empty()) return refuse("fields." + from, "the new name must not be empty");
  }
  return {};
}

FilterPtr makeRenameFields(const config::Section& s) {
  settingsOrThrow(s, checkRenameFields(s));
  return std::make_unique<RenameFieldsFilter>(s.getMap("fields"), s.getBool("overwrite"));
}

} // namespace ferry::filter
