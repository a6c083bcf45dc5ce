// Decoded forward messages → Batches, and the ack bookkeeping: a chunk is acked only after
// every batch holding its records was taken by push(). One copy per record (wire → batch).
#include "ferry/input/forward_batcher.h"

#include <algorithm>
#include <iterator>

#include "ferry/codec/msgpack_scan.h"

namespace ferry::input::forward {
namespace {

constexpr std::string_view kTruncatedKey = "ferry.truncated";
// Small batches (Message mode, one record per frame) grow from here rather than from 256 B.
constexpr size_t kMinReserveBytes = 4096;

} // namespace

ForwardBatcher::ForwardBatcher(const BatcherSettings& settings, PushFn push)
    : settings_(settings), push_(std::move(push)) {}

bool ForwardBatcher::add(const DecodedMessage& message, ForwardDecoder* source) {
  if (refused_) return false;
  if (source && adoptMessage(message, *source)) return !refused_;
  if (current_ && message.tag != tag_ && !pushCurrent()) return false;
  // A message that fits a batch on its own is not split between this batch and the next.
  if (current_ && !current_->empty() &&
      (current_->size() + message.records.size() > settings_.target_records ||
       current_bytes_ + message.record_bytes > settings_.target_bytes) &&
      !pushCurrent()) {
    return false;
  }
  size_t remaining_bytes = message.record_bytes;
  const size_t count = message.records.size();
  for (size_t i = 0; i < count; ++i) {
    const DecodedRecord& record = message.records[i];
    if (current_ && (current_->size() >= settings_.target_records ||
                     current_bytes_ >= settings_.target_bytes)) {
      if (!pushCurrent()) return false;
    }
    if (!current_) {
      startBatch(message.tag, std::min(remaining_bytes, settings_.target_bytes + record.map.size()),
                 std::min(count - i, settings_.target_records));
    }
    appendRecord(record);
    if (message.has_partial) current_->setPartialHint(core::Batch::PartialHint::kSome);
    remaining_bytes -= record.map.size();
  }
  if (message.chunk) {
    // Its records are in current_ (or were all pushed or dropped already).
    (current_ ? pending_acks_ : ready_acks_).emplace_back(*message.chunk);
  }
  return true;
}

bool ForwardBatcher::adoptMessage(const DecodedMessage& message, ForwardDecoder& source) {
  // A batch of its own, within twice the usual targets, with no record to drop or truncate.
  const size_t count = message.records.size();
  if (count == 0 || count > settings_.target_records ||
      message.record_bytes > 2 * settings_.target_bytes) {
    return false;
  }
  for (const DecodedRecord& record : message.records) {
    if (record.map.size() > settings_.max_record_bytes) return false;
  }
  std::optional<core::ByteBuffer> buffer = source.takeRecordsBuffer();
  if (!buffer) return false;
  // What was being filled goes first, so records keep their order.
  if (current_ && !pushCurrent()) return true; // refused_ (stopping): add() reports it
  startBatch(message.tag, 0, count);
  const char* base = buffer->data();
  current_->buffer() = std::move(*buffer);
  for (const DecodedRecord& record : message.records) {
    current_->addEntry(record.timestamp_ns, static_cast<uint32_t>(record.map.data() - base),
                       static_cast<uint32_t>(record.map.size()));
  }
  current_bytes_ = message.record_bytes;
  if (message.has_partial) current_->setPartialHint(core::Batch::PartialHint::kSome);
  if (message.chunk) pending_acks_.emplace_back(*message.chunk);
  // Budgets count what a batch holds: give back the buffer's room past the frame. This may
  // move the bytes, so it comes after the last use of the message's views.
  current_->buffer().shrinkToFit();
  pushCurrent(); // full already: appending more would copy the frame to grow it
  return true;
}

bool ForwardBatcher::flush() {
  if (refused_) return false;
  return pushCurrent();
}

bool ForwardBatcher::pushCurrent() {
  core::BatchRef batch = std::move(current_);
  current_ = core::BatchRef();
  current_bytes_ = 0;
  if (batch && !batch->empty() && !push_(std::move(batch))) {
    // The daemon is stopping: these records were not taken, so their chunks go unacked and
    // the client will resend them.
    refused_ = true;
    pending_acks_.clear();
    return false;
  }
  ready_acks_.insert(ready_acks_.end(), std::make_move_iterator(pending_acks_.begin()),
                     std::make_move_iterator(pending_acks_.end()));
  pending_acks_.clear();
  return true;
}

void ForwardBatcher::startBatch(std::string_view tag, size_t bytes_hint, size_t records_hint) {
  std::string full_tag;
  full_tag.reserve(settings_.tag_prefix.size() + tag.size());
  full_tag.append(settings_.tag_prefix).append(tag);
  current_ =
      core::Batch::create(std::move(full_tag), core::RecordFormat::kMsgpackMap,
                          bytes_hint ? std::max(bytes_hint, kMinReserveBytes) : 0, records_hint);
  current_->setInputId(settings_.input_id);
  // The decoder looked at every record's keys: concat_partial need not scan this batch
  // unless a message said it holds a partial record.
  current_->setPartialHint(core::Batch::PartialHint::kNone);
  tag_.assign(tag);
  current_bytes_ = 0;
}

void ForwardBatcher::appendRecord(const DecodedRecord& record) {
  if (record.map.size() <= settings_.max_record_bytes) {
    current_->append(record.timestamp_ns, record.map);
    current_bytes_ += record.map.size();
    return;
  }
  if (settings_.record_too_large == RecordTooLarge::kTruncate) {
    core::ByteBuffer& buffer = current_->buffer();
    const size_t offset = buffer.size();
    if (truncateRecord(record.map, settings_.max_record_bytes, buffer)) {
      const size_t length = buffer.size() - offset;
      current_->addEntry(record.timestamp_ns, static_cast<uint32_t>(offset),
                         static_cast<uint32_t>(length));
      current_bytes_ += length;
      if (settings_.truncated) settings_.truncated->add();
      return;
    }
  }
  if (settings_.dropped) settings_.dropped->add();
}

bool truncateRecord(std::string_view map, size_t max_bytes, core::ByteBuffer& out) {
  MsgpackCursor c(map);
  const uint8_t* begin = c.position();
  uint64_t pairs = 0;
  if (!c.readMap(pairs)) return false;
  const size_t old_header = static_cast<size_t>(c.position() - begin);
  std::vector<uint64_t> stack; // the rare path: an allocation is fine here
  const uint8_t* log_begin = nullptr;
  const uint8_t* log_end = nullptr;
  std::string_view log;
  bool has_marker = false;
  for (uint64_t i = 0; i < pairs; ++i) {
    std::string_view key;
    const bool string_key = c.readStr(key);
    if (!string_key && !c.skip(stack)) return false;
    const uint8_t* value = c.position();
    if (string_key && key == "log" && log_begin == nullptr && c.readStr(log)) {
      log_begin = value;
      log_end = c.position();
      continue;
    }
    if (string_key && key == kTruncatedKey) has_marker = true;
    if (!c.skip(stack)) return false;
  }
  if (log_begin == nullptr) return false;

  const size_t new_pairs = pairs + (has_marker ? 0 : 1);
  const size_t marker_bytes =
      has_marker ? 0 : msgpackStrHeaderSize(kTruncatedKey.size()) + kTruncatedKey.size() + 1;
  const size_t log_bytes = static_cast<size_t>(log_end - log_begin);
  const size_t fixed =
      map.size() - old_header - log_bytes + msgpackMapHeaderSize(new_pairs) + marker_bytes;
  if (fixed + 1 > max_bytes) return false; // even an empty `log` would not fit
  const size_t budget = max_bytes - fixed; // for the new `log` header and text
  size_t keep = budget - 1;
  while (keep > 0 && msgpackStrHeaderSize(keep) + keep > budget)
    --keep;
  keep = std::min(keep, log.size());
  // Cut before a continuation byte's lead so the text stays valid UTF-8.
  while (keep > 0 && keep < log.size() && (static_cast<uint8_t>(log[keep]) & 0xc0) == 0x80) {
    --keep;
  }

  std::string head;
  packMapHeader(head, static_cast<uint32_t>(new_pairs));
  out.append(head);
  const char* base = map.data();
  const auto* log_begin_c = reinterpret_cast<const char*>(log_begin);
  const auto* log_end_c = reinterpret_cast<const char*>(log_end);
  out.append(base + old_header, static_cast<size_t>(log_begin_c - (base + old_header)));
  std::string text;
  packStr(text, log.substr(0, keep));
  out.append(text);
  out.append(log_end_c, static_cast<size_t>(base + map.size() - log_end_c));
  if (!has_marker) {
    std::string marker;
    packStr(marker, kTruncatedKey);
    packBool(marker, true);
    out.append(marker);
  }
  return true;
}

} // namespace ferry::input::forward
