// Record plumbing shared by the filters: field views over msgpack maps and lines, the map
// writer, and the lazy batch rewriter.
#include "ferry/filter/record.h"

#include <fmt/format.h>

#include "ferry/codec/msgpack_scan.h"
#include "ferry/codec/parsers.h"

namespace ferry::filter {

using input::forward::MsgpackCursor;
using input::forward::MsgpackHeader;

bool splitFields(core::RecordFormat format, std::string_view data, std::vector<Field>& out,
                 std::vector<uint64_t>& stack) {
  out.clear();
  if (format == core::RecordFormat::kLine) {
    out.push_back({"log", data, true});
    return true;
  }
  MsgpackCursor cursor(data);
  uint64_t pairs = 0;
  if (!cursor.readMap(pairs)) return false;
  // A map cannot hold more pairs than it has bytes: refuse absurd counts before reserving.
  if (pairs > data.size()) return false;
  out.reserve(pairs);
  for (uint64_t i = 0; i < pairs; ++i) {
    std::string_view key;
    if (!cursor.readStr(key)) return false;
    const uint8_t* begin = cursor.position();
    if (!cursor.skip(stack)) return false;
    out.push_back(
        {key,
         {reinterpret_cast<const char*>(begin), static_cast<size_t>(cursor.position() - begin)},
         false});
  }
  return true;
}

void writeMap(core::ByteBuffer& out, std::span<const Field> fields) {
  codec::MsgpackAppender::mapHeader(out, static_cast<uint32_t>(fields.size()));
  for (const Field& f : fields) {
    codec::MsgpackAppender::string(out, f.key);
    if (f.text) {
      codec::MsgpackAppender::string(out, f.value);
    } else {
      out.append(f.value);
    }
  }
}

bool fieldText(const Field& field, std::string& scratch, std::string_view& out) {
  if (field.text) {
    out = field.value;
    return true;
  }
  MsgpackCursor cursor(field.value);
  MsgpackHeader h;
  if (!cursor.peek(h)) return false;
  switch (h.kind) {
  case MsgpackHeader::Kind::kStr:
  case MsgpackHeader::Kind::kBin:
    return cursor.readStrOrBin(out);
  case MsgpackHeader::Kind::kBool: {
    bool b = false;
    cursor.readBool(b);
    out = b ? "true" : "false";
    return true;
  }
  case MsgpackHeader::Kind::kUint: {
    uint64_t v = 0;
    cursor.readUint(v);
    scratch = fmt::format("{}", v);
    out = scratch;
    return true;
  }
  case MsgpackHeader::Kind::kInt: {
    int64_t v = 0;
    cursor.readInt(v);
    scratch = fmt::format("{}", v);
    out = scratch;
    return true;
  }
  case MsgpackHeader::Kind::kFloat32:
  case MsgpackHeader::Kind::kFloat64: {
    double v = 0;
    cursor.readDouble(v);
    scratch = fmt::format("{}", v);
    out = scratch;
    return true;
  }
  default:
    return false;
  }
}

const Field* findField(std::span<const Field> fields, std::string_view key) {
  for (const Field& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

BatchRewriter::BatchRewriter(const core::Batch& in, core::RecordFormat out_format)
    : in_(in), out_format_(out_format) {}

void BatchRewriter::copy(size_t i) {
  const core::RecordView r = in_.record(i);
  if (in_.format() == out_format_) {
    out_->append(r.timestamp_ns, r.data);
    return;
  }
  // kLine kept in a msgpack batch: {log: line}.
  core::ByteBuffer& buf = out_->buffer();
  const size_t start = buf.size();
  codec::appendLogMap(buf, r.data);
  out_->addEntry(r.timestamp_ns, static_cast<uint32_t>(start),
                 static_cast<uint32_t>(buf.size() - start));
}

void BatchRewriter::materialize(size_t upto) {
  if (out_) return;
  out_ = core::Batch::create(in_.tag(), out_format_, in_.buffer().size() + 256, in_.size());
  for (size_t j = pending_from_; j < upto; ++j)
    copy(j);
}

void BatchRewriter::keep(size_t i) {
  if (out_) copy(i);
  next_ = i + 1;
}

void BatchRewriter::drop(size_t i) {
  materialize(i);
  next_ = i + 1;
}

core::ByteBuffer& BatchRewriter::replace(size_t i) {
  materialize(i);
  next_ = i + 1;
  start_ = out_->buffer().size();
  return out_->buffer();
}

core::ByteBuffer& BatchRewriter::insert() {
  materialize(next_);
  start_ = out_->buffer().size();
  return out_->buffer();
}

void BatchRewriter::commit(int64_t timestamp_ns) {
  const size_t end = out_->buffer().size();
  out_->addEntry(timestamp_ns, static_cast<uint32_t>(start_), static_cast<uint32_t>(end - start_));
}

core::BatchRef BatchRewriter::finish(core::BatchRef in) {
  if (!out_) return in;
  return std::move(out_);
}

} // namespace ferry::filter
