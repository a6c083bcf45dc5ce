// The `logfmt` line parser: `key=value key2="quoted \"value\"" flag` → string fields (a bare
// key is `true`). Escapes in quotes: \" \\ \n \r \t (others keep the character). A line
// with no key=value pair, an unterminated quote or a quote inside a key is not logfmt.
#include <cctype>

#include "ferry/codec/parsers.h"

namespace ferry::codec {
namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

// Length of a quoted value once unescaped; `i` is just past the opening quote and ends just
// past the closing one. False when the quote does not close.
bool scanQuoted(std::string_view line, size_t& i, size_t& unescaped, bool& has_escapes) {
  unescaped = 0;
  has_escapes = false;
  while (i < line.size()) {
    const char c = line[i++];
    if (c == '"') return true;
    if (c == '\\' && i < line.size()) {
      ++i;
      has_escapes = true;
    }
    ++unescaped;
  }
  return false;
}

void appendUnescaped(core::ByteBuffer& out, std::string_view quoted_body, size_t length) {
  MsgpackAppender::stringHeader(out, static_cast<uint32_t>(length));
  char* p = out.prepare(length);
  size_t n = 0;
  for (size_t i = 0; i < quoted_body.size(); ++i) {
    char c = quoted_body[i];
    if (c == '\\' && i + 1 < quoted_body.size()) {
      c = quoted_body[++i];
      if (c == 'n')
        c = '\n';
      else if (c == 't')
        c = '\t';
      else if (c == 'r')
        c = '\r';
    }
    p[n++] = c;
  }
  out.commit(n);
}

class LogfmtParser final : public LineParser {
public:
  LogfmtParser(std::optional<detail::TimeField> time, std::vector<TypedKey> types)
      : time_(std::move(time)), types_(std::move(types)) {}

  ParseStatus parse(std::string_view line, int64_t& ts_ns, core::ByteBuffer& out,
                    std::span<const ExtraField> extra) const override {
    const size_t mark = out.size();
    const size_t header = MsgpackAppender::beginContainer(out);
    uint32_t count = 0;
    bool pairs = false;
    bool time_seen = false, time_ok = false;
    size_t i = 0;
    const auto fail = [&] {
      out.resize(mark);
      return ParseStatus::kNotParsed;
    };
    while (true) {
      while (i < line.size() && isBlank(line[i]))
        ++i;
      if (i >= line.size()) break;
      const size_t key_start = i;
      while (i < line.size() && !isBlank(line[i]) && line[i] != '=') {
        if (line[i] == '"') return fail();
        ++i;
      }
      const std::string_view key = line.substr(key_start, i - key_start);
      if (key.empty()) return fail(); // "=value"
      const size_t pair_at = out.size();
      // Time_Keep Off: a time that was read leaves the record (one that was not stays).
      const auto dropIfRead = [&] {
        if (time_ok && !time_->keep) {
          out.resize(pair_at);
          --count;
        }
      };
      MsgpackAppender::string(out, key);
      ++count;
      const bool is_time = time_ && key == time_->key;
      if (i >= line.size() || line[i] != '=') {
        MsgpackAppender::boolean(out, true);
        continue;
      }
      ++i; // '='
      pairs = true;
      std::string_view value;
      if (i < line.size() && line[i] == '"') {
        const size_t body = ++i;
        size_t length;
        bool escapes;
        if (!scanQuoted(line, i, length, escapes)) return fail();
        const std::string_view raw = line.substr(body, i - 1 - body);
        if (escapes) {
          const size_t at = out.size();
          appendUnescaped(out, raw, length);
          // The unescaped text is the string's payload, just written.
          value = std::string_view(out.data() + out.size() - length, length);
          if (is_time) {
            time_seen = true;
            time_ok = detail::readTime(time_, value, ts_ns);
            dropIfRead();
          }
          if (!types_.empty() && out.size() > pair_at) {
            // Typed: written again from a copy of the unescaped text.
            const std::string text(value);
            out.resize(at);
            appendFieldValue(out, types_, key, text);
          }
          continue;
        }
        value = raw;
      } else {
        const size_t v = i;
        while (i < line.size() && !isBlank(line[i]))
          ++i;
        value = line.substr(v, i - v);
      }
      appendFieldValue(out, types_, key, value);
      if (is_time) {
        time_seen = true;
        time_ok = detail::readTime(time_, value, ts_ns);
        dropIfRead();
      }
    }
    if (!pairs) return fail();
    for (const auto& f : extra) {
      MsgpackAppender::string(out, f.key);
      MsgpackAppender::string(out, f.value);
    }
    MsgpackAppender::endMap(out, header, count + static_cast<uint32_t>(extra.size()));
    if (time_ && !(time_seen && time_ok)) return ParseStatus::kBadTime;
    return ParseStatus::kParsed;
  }

private:
  std::optional<detail::TimeField> time_;
  std::vector<TypedKey> types_;
};

} // namespace

LineParserPtr detail::makeLogfmtParser(std::optional<TimeField> time, std::vector<TypedKey> types) {
  return std::make_unique<LogfmtParser>(std::move(time), std::move(types));
}

} // namespace ferry::codec
