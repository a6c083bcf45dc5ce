// parse: reads one field (default `log`) with the json, logfmt or regex line parser of the
// tail input (codec/parsers) and merges the parsed fields into the record (or, with
// keep_other_fields false, makes them the record, as Fluent Bit's Reserve_Data Off does). A
// value the parser does not accept leaves the record as it was; a time it cannot read leaves
// the record's time as it was, with a warning (rate-limited), as Fluent Bit does.
#include <fmt/format.h>

#include "ferry/obs/log.h"

#include "ferry/codec/parsers.h"
#include "ferry/filter/filters.h"
#include "ferry/filter/record.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;

class ParseFilter final : public core::Filter {
public:
  ParseFilter(codec::LineParserPtr parser, std::string field, bool keep_original, bool keep_others,
              std::string time_key)
      : parser_(std::move(parser)), field_(std::move(field)), keep_original_(keep_original),
        keep_others_(keep_others), time_key_(std::move(time_key)) {}

  core::BatchRef apply(core::BatchRef batch) override {
    if (batch->format() == core::RecordFormat::kLine && field_ != "log") return batch;
    BatchRewriter rewriter(*batch, core::RecordFormat::kMsgpackMap);
    for (size_t i = 0; i < batch->size(); ++i) {
      const core::RecordView r = batch->record(i);
      int64_t ts = r.timestamp_ns;
      if (!parseRecord(batch->format(), r.data, ts)) {
        rewriter.keep(i);
        continue;
      }
      writeMap(rewriter.replace(i), merged_);
      rewriter.commit(ts);
    }
    return rewriter.finish(std::move(batch));
  }

private:
  // Fills merged_: the record's other fields, then the parsed ones (which win on a clash).
  bool parseRecord(core::RecordFormat format, std::string_view data, int64_t& ts) {
    if (!splitFields(format, data, fields_, stack_)) return false;
    const Field* source = findField(fields_, field_);
    std::string_view text;
    if (source == nullptr || !fieldText(*source, scratch_, text)) return false;
    parsed_.clear();
    const codec::ParseStatus status = parser_->parse(text, ts, parsed_);
    if (status == codec::ParseStatus::kNotParsed) return false;
    if (!splitFields(core::RecordFormat::kMsgpackMap, parsed_.view(), parsed_fields_, stack_)) {
      return false;
    }
    // As Fluent Bit: a time field that is there but unreadable is logged; none is no news.
    if (status == codec::ParseStatus::kBadTime && findField(parsed_fields_, time_key_)) {
      FERRY_LOG_WARN("parse",
                     "field {}: {} is not a time of time_format (the record keeps its "
                     "time)",
                     field_, time_key_);
    }
    merged_.clear();
    for (const Field& f : fields_) {
      if (f.key == field_ ? !keep_original_ : !keep_others_) continue;
      if (findField(parsed_fields_, f.key) != nullptr) continue;
      merged_.push_back(f);
    }
    merged_.insert(merged_.end(), parsed_fields_.begin(), parsed_fields_.end());
    return true;
  }

  codec::LineParserPtr parser_;
  std::string field_;
  bool keep_original_;
  bool keep_others_;
  std::string time_key_;
  std::vector<Field> fields_, parsed_fields_, merged_;
  std::vector<uint64_t> stack_;
  std::string scratch_;
  core::ByteBuffer parsed_;
};

} // namespace

const config::OptionTable& parseOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "field",
                 .type = OptionType::kString,
                 .default_value = "log",
                 .doc = "The field to parse (a string)."},
      OptionSpec{.name = "format",
                 .type = OptionType::kEnum,
                 .required = true,
                 .enum_values = {"json", "logfmt", "regex"},
                 .doc = "json (an object), logfmt (key=value pairs) or regex (named groups)."},
      OptionSpec{.name = "regex",
                 .type = OptionType::kString,
                 .doc = "format regex: pattern (RE2 syntax; look-around and back-references "
                        "run on PCRE2) whose named groups (?P<name>...) become fields."},
      OptionSpec{.name = "time_key",
                 .type = OptionType::kString,
                 .doc = "A parsed field holding the record's time."},
      OptionSpec{.name = "time_format",
                 .type = OptionType::kString,
                 .default_value = "iso8601",
                 .doc = "iso8601, epoch, epoch_ms or a strptime pattern read as Fluent Bit "
                        "does (%Y-%m-%dT%H:%M:%S.%L%z; text after the pattern is ignored)."},
      OptionSpec{.name = "time_keep",
                 .type = OptionType::kBool,
                 .default_value = "true",
                 .doc = "Keep time_key's field once its time was read (false: drop it, as "
                        "Fluent Bit's Time_Keep Off; an unreadable one always stays)."},
      OptionSpec{.name = "time_offset",
                 .type = OptionType::kString,
                 .doc = "Zone of times whose time_format has none (%z/%Z): +hhmm or +hh:mm."},
      OptionSpec{.name = "time_system_timezone",
                 .type = OptionType::kBool,
                 .default_value = "false",
                 .doc = "Times whose time_format has no zone are in the host's zone (TZ)."},
      OptionSpec{.name = "skip_empty",
                 .type = OptionType::kBool,
                 .default_value = "false",
                 .doc = "format regex: leave out groups that matched nothing (Fluent Bit's "
                        "Skip_Empty_Values)."},
      OptionSpec{.name = "types",
                 .type = OptionType::kString,
                 .doc = "format regex or logfmt: typed fields, 'key:integer key2:float "
                        "key3:bool key4:hex' (text that is not such a value stays a string)."},
      OptionSpec{.name = "keep_original",
                 .type = OptionType::kBool,
                 .default_value = "false",
                 .doc = "Keep the parsed field beside the fields parsed from it."},
      OptionSpec{.name = "keep_other_fields",
                 .type = OptionType::kBool,
                 .default_value = "true",
                 .doc = "Keep the record's other fields (false: a parsed record holds only "
                        "the parsed fields, as Fluent Bit's Reserve_Data Off)."},
  };
  return table;
}

namespace {

// What checkParse and makeParse both read: the line parser, compiled.
std::expected<codec::LineParserPtr, std::string> parserFor(const config::Section& s) {
  codec::ParserOptions options;
  options.type = s.getString("format");
  options.regex = s.getString("regex");
  options.time_key = s.getString("time_key");
  if (s.has("time_format")) options.time_format = s.getString("time_format");
  options.time_keep = s.getBool("time_keep");
  options.time_offset = s.getString("time_offset");
  options.time_system_timezone = s.getBool("time_system_timezone");
  options.skip_empty = s.getBool("skip_empty");
  options.types = s.getString("types");
  if (options.type == "regex" && options.regex.empty()) {
    return refuse("regex", "required by format regex");
  }
  if (options.type != "regex" && !options.regex.empty()) {
    return refuse("regex", "only used with format regex");
  }
  auto parser = codec::makeLineParser(options);
  // Its errors name the option already ("regex: ...", "time_format: ...").
  if (!parser) return std::unexpected(parser.error());
  return std::move(*parser);
}

} // namespace

SettingsResult checkParse(const config::Section& s) {
  return outcomeOf(parserFor(s));
}

FilterPtr makeParse(const config::Section& s) {
  return std::make_unique<ParseFilter>(settingsOrThrow(s, parserFor(s)), s.getString("field"),
                                       s.getBool("keep_original"), s.getBool("keep_other_fields"),
                                       s.getString("time_key"));
}

} // namespace ferry::filter
