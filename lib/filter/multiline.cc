// multiline: Fluent Bit's multiline filter. Joins the `key_content` values of consecutive
// records of one stream into one record with the multiline engine (ferry/input/multiline.h,
// the one the tail input uses): Fluent Bit's built-in parsers (docker, cri, go, python, java,
// ruby) and custom regex rules, tried in the order given. A stream is a tag with a
// container_id (or container_name) and a source (or stream) field, so the lines of
// interleaved containers and of stdout/stderr never mix. The joined record keeps the fields
// and the time of its first record. `mode: partial_message` reassembles Docker's 16 KiB
// partial records instead, with concat_partial's code.
//
// Acknowledgement: as concat_partial, a batch with records held in a pending record is
// resolved only once the joined record is (held_finalizers.h). With storage on, the pipeline
// keeps the stored entry of such a batch unreleased meanwhile, so a crash replays it.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "ferry/codec/msgpack_scan.h"
#include "ferry/codec/parsers.h"
#include "ferry/core/strings.h"
#include "ferry/filter/filters.h"
#include "ferry/filter/record.h"
#include "ferry/input/multiline.h"
#include "ferry/obs/log.h"
#include "held_finalizers.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;
using Clock = std::chrono::steady_clock;

// The fields of a pending record's first record, around its key_content: what the joined
// record is written with. Kept in the joiner's context as [u32 fields][u32 before] before after.
void packContext(std::span<const Field> fields, std::string_view key, std::string& out) {
  core::ByteBuffer before, after;
  uint32_t count = 0;
  bool seen = false;
  for (const Field& f : fields) {
    if (f.key == key && !seen) {
      seen = true;
      continue;
    }
    core::ByteBuffer& b = seen ? after : before;
    codec::MsgpackAppender::string(b, f.key);
    if (f.text) {
      codec::MsgpackAppender::string(b, f.value);
    } else {
      b.append(f.value);
    }
    ++count;
  }
  const auto split = static_cast<uint32_t>(before.size());
  out.assign(reinterpret_cast<const char*>(&count), sizeof count);
  out.append(reinterpret_cast<const char*>(&split), sizeof split);
  out.append(before.view());
  out.append(after.view());
}

void writeJoined(core::ByteBuffer& out, std::string_view context, std::string_view key,
                 std::string_view text) {
  uint32_t count = 0, split = 0;
  std::memcpy(&count, context.data(), sizeof count);
  std::memcpy(&split, context.data() + sizeof count, sizeof split);
  const std::string_view fields = context.substr(2 * sizeof(uint32_t));
  codec::MsgpackAppender::mapHeader(out, count + 1);
  out.append(fields.substr(0, split));
  codec::MsgpackAppender::string(out, key);
  codec::MsgpackAppender::string(out, text);
  out.append(fields.substr(split));
}

struct Stream {
  std::string tag;
  std::unique_ptr<input::MultilineJoiner> joiner;
  std::vector<core::BatchFinalizer> parts; // held records of earlier batches
  bool touched = false;                    // took a record of the batch being applied
};

class MultilineFilter final : public core::Filter {
public:
  MultilineFilter(std::unique_ptr<input::MultilineRules> rules, std::string key, size_t max_bytes)
      : rules_(std::move(rules)), key_(std::move(key)), max_bytes_(max_bytes) {}

  core::BatchRef apply(core::BatchRef batch) override {
    BatchRewriter rewriter(*batch, core::RecordFormat::kMsgpackMap);
    std::vector<core::BatchFinalizer> resolved; // parts of earlier batches joined here
    const auto now = Clock::now();
    for (size_t i = 0; i < batch->size(); ++i) {
      const core::RecordView r = batch->record(i);
      std::string_view text;
      const Field* content = nullptr;
      if (splitFields(batch->format(), r.data, fields_, stack_)) {
        content = findField(fields_, key_);
      }
      if (content == nullptr || !isString(*content, text)) {
        rewriter.keep(i); // nothing to join: passed on as it is, as Fluent Bit does
        continue;
      }
      Stream& s = stream(batch->tag());
      rewriter.drop(i);
      packContext(fields_, key_, context_);
      s.joiner->add(
          text, r.timestamp_ns, 0, now,
          [&](std::string_view record, int64_t ts) {
            writeJoined(rewriter.insert(), s.joiner->context(), key_, record);
            rewriter.commit(ts);
            std::move(s.parts.begin(), s.parts.end(), std::back_inserter(resolved));
            s.parts.clear();
          },
          context_);
      s.touched = true;
    }
    if (!rewriter.changed()) return batch;
    core::BatchRef out = rewriter.finish(batch);
    std::vector<std::vector<core::BatchFinalizer>*> holders;
    for (auto& [k, s] : streams_) {
      if (std::exchange(s.touched, false) && s.joiner->pending()) holders.push_back(&s.parts);
    }
    // Even with every record held, `out` (empty) goes on: it carries the finalizer, where an
    // empty ref would resolve the batch as delivered.
    passFinalizer(*batch, *out, holders, std::move(resolved));
    return out;
  }

  std::vector<core::BatchRef> release(Clock::time_point now, bool all) override {
    std::vector<core::BatchRef> out;
    for (auto it = streams_.begin(); it != streams_.end();) {
      Stream& s = it->second;
      if (all || s.joiner->expired(now)) {
        s.joiner->flush([&](std::string_view record, int64_t ts) {
          core::BatchRef b =
              core::Batch::create(s.tag, core::RecordFormat::kMsgpackMap,
                                  record.size() + s.joiner->context().size() + 64, 1);
          writeJoined(b->buffer(), s.joiner->context(), key_, record);
          b->addEntry(ts, 0, static_cast<uint32_t>(b->buffer().size()));
          if (!s.parts.empty()) b->setFinalizer(combine(std::move(s.parts)));
          s.parts.clear();
          out.push_back(std::move(b));
        });
      }
      // A stream with nothing pending costs nothing to forget.
      if (!s.joiner->pending()) {
        it = streams_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

private:
  static bool isString(const Field& f, std::string_view& text) {
    if (f.text) {
      text = f.value;
      return true;
    }
    input::forward::MsgpackCursor c(f.value); // a field's value as packed: only a str is a line
    return c.readStr(text);
  }

  Stream& stream(const std::string& tag) {
    key_scratch_.assign(tag).push_back('\0');
    std::string_view v;
    const Field* c = findField(fields_, "container_id");
    if (c == nullptr) c = findField(fields_, "container_name");
    if (c != nullptr && fieldText(*c, scratch_, v)) key_scratch_.append(v);
    key_scratch_.push_back('\0');
    const Field* src = findField(fields_, "source");
    if (src == nullptr) src = findField(fields_, "stream");
    if (src != nullptr && fieldText(*src, scratch_, v)) key_scratch_.append(v);
    auto [it, fresh] = streams_.try_emplace(key_scratch_);
    if (fresh) {
      it->second.tag = tag;
      it->second.joiner = std::make_unique<input::MultilineJoiner>(*rules_, max_bytes_);
    }
    return it->second;
  }

  std::unique_ptr<input::MultilineRules> rules_;
  std::string key_;
  size_t max_bytes_;
  std::unordered_map<std::string, Stream> streams_;
  std::vector<Field> fields_;
  std::vector<uint64_t> stack_;
  std::string scratch_, key_scratch_, context_;
};

} // namespace

const config::OptionTable& multilineOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "mode",
                 .type = OptionType::kEnum,
                 .default_value = "parser",
                 .enum_values = {"parser", "partial_message"},
                 .doc = "parser joins lines with the parsers below; partial_message reassembles "
                        "Docker's 16 KiB partial records (partial_message, partial_id, "
                        "partial_ordinal, partial_last) as concat_partial does."},
      OptionSpec{.name = "parser",
                 .type = OptionType::kStringList,
                 .doc = "Fluent Bit's multiline parsers, tried in order: docker, cri, go, "
                        "python, java, ruby, and custom (the rules below; tried last when not "
                        "listed)."},
      OptionSpec{.name = "rules",
                 .type = OptionType::kStringList,
                 .doc = "A custom regex parser, as [MULTILINE_PARSER] rules: each "
                        "'\"STATE\" \"REGEX\" \"NEXT_STATE\"' (STATE may list several, comma-"
                        "separated; the first rules start from start_state; native regexes)."},
      OptionSpec{.name = "custom",
                 .type = OptionType::kStringMap,
                 .doc = "More custom parsers by name (listed in parser; tried last when not): "
                        "each its rules, one per line, or one line 'endswith \"STRING\"' or "
                        "'equal \"STRING\"' (a record ends at a line that ends with / is "
                        "STRING), optionally followed by 'negate' (Fluent Bit's [MULTILINE_PARSER] "
                        "types regex, endswith, equal)."},
      OptionSpec{.name = "key_content",
                 .type = OptionType::kString,
                 .default_value = "log",
                 .doc = "The field whose values are joined; records without it pass as they "
                        "are."},
      OptionSpec{.name = "flush_ms",
                 .type = OptionType::kDuration,
                 .default_value = "2s",
                 .min_value = 1,
                 .max_value = int64_t{3600} * 1000,
                 .doc = "A pending record goes out this long after its latest line (Fluent "
                        "Bit's flush_timeout)."},
      OptionSpec{.name = "max_bytes",
                 .type = OptionType::kSize,
                 .default_value = "1MiB",
                 .min_value = 1024,
                 .max_value = int64_t{64} * 1024 * 1024,
                 .doc = "Largest joined value; a line that would pass it begins a new record."},
  };
  return table;
}

namespace {

// What checkMultiline and makeMultiline both read: the rules compiled, or nullptr for mode
// partial_message (which takes none).
std::expected<std::unique_ptr<input::MultilineRules>, std::string>
multilineRules(const config::Section& s, std::chrono::milliseconds flush) {
  if (s.getString("mode") == "partial_message") {
    if (s.has("parser") || s.has("rules") || s.has("custom")) {
      return refuse("mode", "partial_message takes no parser or rules (as in Fluent Bit)");
    }
    return nullptr;
  }
  input::MultilineOptions options;
  options.timeout = flush;
  if (s.has("parser")) options.parsers = s.getList("parser");
  // A custom parser goes last in the order when `parser` does not place it.
  const auto add = [&options](input::MultilineParserDef def) {
    if (std::find(options.parsers.begin(), options.parsers.end(), def.name) ==
        options.parsers.end()) {
      options.parsers.push_back(def.name);
    }
    options.custom.push_back(std::move(def));
  };
  if (s.has("rules")) {
    input::MultilineParserDef def{.name = "custom", .rules = {}};
    for (const std::string& text : s.getList("rules")) {
      auto rule = input::parseMultilineRule(text);
      if (!rule) return refuse("rules", fmt::format("'{}': {}", text, rule.error()));
      def.rules.push_back(std::move(*rule));
    }
    add(std::move(def));
  }
  if (s.has("custom")) {
    for (const auto& [name, text] : s.getMap("custom")) {
      if (input::MultilineRules::builtin(name) || (name == "custom" && s.has("rules"))) {
        return refuse("custom", fmt::format("'{}' is taken (built in, or rules)", name));
      }
      auto def = input::parseMultilineParser(name, text);
      if (!def) return refuse("custom", fmt::format("{}: {}", name, def.error()));
      add(std::move(*def));
    }
  }
  if (options.parsers.empty()) return refuse("parser", "needs a parser or rules");
  auto rules = input::MultilineRules::create(options);
  if (!rules) {
    return refuse(s.has("custom") ? "custom" : s.has("rules") ? "rules" : "parser", rules.error());
  }
  return std::move(*rules);
}

std::chrono::milliseconds flushOf(const config::Section& s) {
  return std::chrono::milliseconds(s.getIntOr("flush_ms", 2000));
}

} // namespace

SettingsResult checkMultiline(const config::Section& s) {
  return outcomeOf(multilineRules(s, flushOf(s)));
}

FilterPtr makeMultiline(const config::Section& s) {
  const std::string key = s.has("key_content") ? s.getString("key_content") : "log";
  const auto max_bytes = static_cast<size_t>(s.getIntOr("max_bytes", 1024 * 1024));
  const std::chrono::milliseconds flush = flushOf(s);
  auto rules = settingsOrThrow(s, multilineRules(s, flush));
  if (!rules) return makePartialMessageJoin(key, max_bytes, flush, 1024);
  return std::make_unique<MultilineFilter>(std::move(rules), key, max_bytes);
}

} // namespace ferry::filter
