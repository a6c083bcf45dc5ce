// The `regex` line parser: an RE2 pattern searched in the line (unanchored, as Fluent Bit
// does; write ^...$ to anchor); each named group (?P<name>...) that took part in the match
// becomes a string field. RE2 runs in linear time, so a hostile line cannot stall the input.
#include <re2/re2.h>

#include <algorithm>
#include <vector>

#include "ferry/codec/parsers.h"

namespace ferry::codec {
namespace {

class RegexParser final : public LineParser {
public:
  RegexParser(std::unique_ptr<re2::RE2> re, std::optional<detail::TimeField> time)
      : re_(std::move(re)), time_(std::move(time)) {
    groups_ = re_->NumberOfCapturingGroups();
    for (const auto& [index, name] : re_->CapturingGroupNames()) {
      named_.push_back({index, name});
    }
    std::sort(named_.begin(), named_.end(),
              [](const Group& a, const Group& b) { return a.index < b.index; });
  }

  ParseStatus parse(std::string_view line, int64_t& ts_ns, core::ByteBuffer& out,
                    std::span<const ExtraField> extra) const override {
    // Up to 32 groups on the stack; more is unusual enough for a heap vector.
    re2::StringPiece fixed[33];
    std::vector<re2::StringPiece> heap;
    re2::StringPiece* sub = fixed;
    const int n = groups_ + 1;
    if (n > 33) {
      heap.resize(static_cast<size_t>(n));
      sub = heap.data();
    }
    const re2::StringPiece text(line.data(), line.size());
    if (!re_->Match(text, 0, text.size(), re2::RE2::UNANCHORED, sub, n)) {
      return ParseStatus::kNotParsed;
    }
    const size_t header = MsgpackAppender::beginContainer(out);
    uint32_t count = 0;
    bool time_ok = false;
    for (const auto& g : named_) {
      const re2::StringPiece& s = sub[g.index];
      if (s.data() == nullptr) continue; // an optional group that did not take part
      const std::string_view value(s.data(), s.size());
      MsgpackAppender::string(out, g.name);
      MsgpackAppender::string(out, value);
      ++count;
      if (time_ && g.name == time_->key) time_ok = detail::readTime(time_, value, ts_ns);
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
  struct Group {
    int index;
    std::string name;
  };
  std::unique_ptr<re2::RE2> re_;
  std::optional<detail::TimeField> time_;
  int groups_ = 0;
  std::vector<Group> named_;
};

} // namespace

std::expected<LineParserPtr, std::string> detail::makeRegexParser(const std::string& regex,
                                                                  std::optional<TimeField> time) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(regex, options);
  if (!re->ok()) return std::unexpected("regex: " + re->error());
  if (re->CapturingGroupNames().empty()) {
    return std::unexpected("regex: no named group (write (?P<name>...) for each field)");
  }
  return std::make_unique<RegexParser>(std::move(re), std::move(time));
}

} // namespace ferry::codec
