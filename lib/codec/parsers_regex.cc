// The `regex` line parser: a pattern searched in the line (unanchored, as Fluent Bit does;
// write ^...$ to anchor); each named group (?P<name>...) that took part in the match becomes a
// field: a string, or the type `types` gives it; with skip_empty a group that matched "" is
// left out, as Fluent Bit's Skip_Empty_Values does. codec::Regex runs it on RE2 (linear time)
// unless it needs PCRE2, whose match limit keeps a hostile line from stalling the input.
#include <algorithm>
#include <vector>

#include "ferry/codec/parsers.h"
#include "ferry/codec/regex.h"

namespace ferry::codec {
namespace {

class RegexParser final : public LineParser {
public:
  RegexParser(Regex re, std::optional<detail::TimeField> time, bool skip_empty,
              std::vector<TypedKey> types)
      : re_(std::move(re)), time_(std::move(time)), skip_empty_(skip_empty),
        types_(std::move(types)) {}

  ParseStatus parse(std::string_view line, int64_t& ts_ns, core::ByteBuffer& out,
                    std::span<const ExtraField> extra) const override {
    // Up to 32 groups on the stack; more is unusual enough for a heap vector.
    std::string_view fixed[33];
    std::vector<std::string_view> heap;
    const size_t n = static_cast<size_t>(re_.groupCount()) + 1;
    std::span<std::string_view> sub(fixed, std::min(n, std::size(fixed)));
    if (n > std::size(fixed)) {
      heap.resize(n);
      sub = heap;
    }
    if (!re_.search(line, sub)) return ParseStatus::kNotParsed;
    const size_t header = MsgpackAppender::beginContainer(out);
    uint32_t count = 0;
    bool time_ok = false;
    for (const auto& g : re_.namedGroups()) {
      const std::string_view value = sub[static_cast<size_t>(g.index)];
      if (value.data() == nullptr) continue; // an optional group that did not take part
      if (value.empty() && skip_empty_) continue;
      if (time_ && g.name == time_->key) {
        time_ok = detail::readTime(time_, value, ts_ns);
        // Time_Keep Off drops a time that was read; one that was not stays, so nothing is lost.
        if (time_ok && !time_->keep) continue;
      }
      MsgpackAppender::string(out, g.name);
      appendFieldValue(out, types_, g.name, value);
      ++count;
    }
    for (const auto& f : extra) {
      MsgpackAppender::string(out, f.key);
      MsgpackAppender::string(out, f.value);
    }
    MsgpackAppender::endMap(out, header, count + static_cast<uint32_t>(extra.size()));
    if (time_ && !time_ok) return ParseStatus::kBadTime;
    return ParseStatus::kParsed;
  }

private:
  Regex re_;
  std::optional<detail::TimeField> time_;
  bool skip_empty_;
  std::vector<TypedKey> types_;
};

} // namespace

std::expected<LineParserPtr, std::string> detail::makeRegexParser(const ParserOptions& options,
                                                                  std::optional<TimeField> time) {
  auto types = parseTypes(options.types);
  if (!types) return std::unexpected("types: " + types.error());
  auto re = Regex::compile(options.regex);
  if (!re) return std::unexpected("regex: " + re.error());
  if (re->namedGroups().empty()) {
    return std::unexpected("regex: no named group (write (?P<name>...) for each field)");
  }
  return std::make_unique<RegexParser>(std::move(*re), std::move(time), options.skip_empty,
                                       std::move(*types));
}

} // namespace ferry::codec
