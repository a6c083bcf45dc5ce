// The tcp input's decoder. JSON: a brace/bracket scanner (strings and escapes respected)
// finds where each top-level value ends, wherever the reads cut it, and the tail input's
// JSON parser writes it as a msgpack map; nothing is copied but the incomplete tail. None:
// pieces between separators are slices of the pending bytes.
#include "ferry/input/tcp.h"

#include <algorithm>

namespace ferry::input::tcp {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

} // namespace

std::string unescapeSeparator(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    switch (text[++i]) {
    case 'n':
      out.push_back('\n');
      break;
    case 'r':
      out.push_back('\r');
      break;
    case 't':
      out.push_back('\t');
      break;
    case '\\':
      out.push_back('\\');
      break;
    default:
      out.push_back('\\');
      out.push_back(text[i]);
    }
  }
  return out;
}

TcpDecoder::TcpDecoder(Format format, std::string separator, size_t max_pending)
    : format_(format), separator_(std::move(separator)), max_pending_(max_pending) {
  if (separator_.empty()) separator_ = "\n";
  if (format_ == Format::kJson) json_ = std::move(*codec::makeLineParser({.type = "json"}));
}

bool TcpDecoder::feed(std::string_view bytes, core::Batch& batch, int64_t ts_ns) {
  pending_.append(bytes);
  if (format_ == Format::kJson)
    decodeJson(batch, ts_ns);
  else
    decodeNone(batch, ts_ns);
  return pending_.size() <= max_pending_;
}

void TcpDecoder::finish(core::Batch& batch, int64_t ts_ns) {
  if (format_ == Format::kNone) {
    if (!pending_.empty()) batch.append(ts_ns, pending_);
  } else if (std::any_of(pending_.begin(), pending_.end(), [](char c) { return !isSpace(c); }) &&
             !skipping_) {
    ++malformed_;
  }
  pending_.clear();
  scan_ = 0;
  in_value_ = in_string_ = escaped_ = skipping_ = false;
  depth_ = 0;
}

void TcpDecoder::decodeNone(core::Batch& batch, int64_t ts_ns) {
  size_t start = 0;
  for (;;) {
    const size_t at = pending_.find(separator_, std::max(start, scan_));
    if (at == std::string::npos) break;
    if (at > start) batch.append(ts_ns, std::string_view(pending_).substr(start, at - start));
    start = at + separator_.size();
  }
  pending_.erase(0, start);
  // A separator may straddle two reads: look again from its possible start next time.
  scan_ = pending_.size() >= separator_.size() ? pending_.size() - separator_.size() + 1 : 0;
}

void TcpDecoder::skipBadJson() {
  ++malformed_;
  in_value_ = in_string_ = escaped_ = false;
  depth_ = 0;
  skipping_ = true;
}

void TcpDecoder::decodeJson(core::Batch& batch, int64_t ts_ns) {
  size_t start = in_value_ ? 0 : scan_; // the current value starts at 0 once consumed up to it
  size_t i = scan_;
  const size_t n = pending_.size();
  while (i < n) {
    const char c = pending_[i];
    if (skipping_) {
      if (c == '\n') skipping_ = false;
      start = ++i;
      continue;
    }
    if (!in_value_) {
      if (isSpace(c)) {
        start = ++i;
      } else if (c == '{' || c == '[') {
        in_value_ = true;
        depth_ = 1;
        start = i++;
      } else {
        skipBadJson(); // a bare scalar or stray byte: Fluent Bit skips it too
      }
      continue;
    }
    if (in_string_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        in_string_ = false;
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      emitJson(std::string_view(pending_).substr(start, i + 1 - start), batch, ts_ns);
      in_value_ = false;
      start = i + 1;
    }
    ++i;
  }
  pending_.erase(0, start);
  scan_ = i - start;
}

void TcpDecoder::emitJson(std::string_view value, core::Batch& batch, int64_t ts_ns) {
  std::string_view object = value;
  if (value.front() == '[') { // Fluent Bit keeps an array under "msg"
    wrapped_.assign("{\"msg\":").append(value).push_back('}');
    object = wrapped_;
  }
  core::ByteBuffer& buf = batch.buffer();
  const size_t offset = buf.size();
  int64_t ts = ts_ns;
  if (json_->parse(object, ts, buf) == codec::ParseStatus::kNotParsed) {
    buf.resize(offset);
    ++malformed_;
    return;
  }
  batch.addEntry(ts_ns, static_cast<uint32_t>(offset), static_cast<uint32_t>(buf.size() - offset));
}

} // namespace ferry::input::tcp
