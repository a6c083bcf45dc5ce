// The segment store's entries: encoding one (SegmentStore::encodeEntry), reading one back
// and checking it, and finding the next intact entry past damage (segment_entry.h).
#include "segment_entry.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ferry/storage/crc32c.h"

namespace ferry::storage {
namespace {

template <typename T> void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T> T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool readFull(int fd, void* buf, size_t n, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

struct Header {
  uint64_t seq;
  uint32_t records;
  uint32_t input_id;
  uint16_t tag_length;
  uint8_t format;
};

// The fixed fields at the start of a body (the caller checked it holds kFixedBodyBytes).
Header parseHeader(std::string_view body) {
  const char* p = body.data();
  return {get<uint64_t>(p), get<uint32_t>(p + 8), get<uint32_t>(p + 12), get<uint16_t>(p + 16),
          static_cast<uint8_t>(p[18])};
}

// Checks a whole body (after its CRC matched) and rebuilds the batch.
std::expected<StoredEntry, std::string> decodeBody(std::string_view body) {
  if (body.size() < SegmentStore::kFixedBodyBytes) return std::unexpected("entry too short");
  const Header h = parseHeader(body);
  const uint64_t index_bytes = uint64_t{h.records} * sizeof(core::RecordEntry);
  const uint64_t fixed = SegmentStore::kFixedBodyBytes + h.tag_length + index_bytes;
  if (fixed > body.size()) return std::unexpected("entry header overruns the entry");
  if (h.format != static_cast<uint8_t>(core::RecordFormat::kMsgpackMap) &&
      h.format != static_cast<uint8_t>(core::RecordFormat::kLine)) {
    return std::unexpected("unknown record format");
  }
  const size_t payload = body.size() - fixed;
  auto batch =
      core::Batch::create(std::string(body.substr(SegmentStore::kFixedBodyBytes, h.tag_length)),
                          static_cast<core::RecordFormat>(h.format), payload, h.records);
  const char* index = body.data() + SegmentStore::kFixedBodyBytes + h.tag_length;
  auto& entries = batch->mutableEntries();
  entries.resize(h.records);
  std::memcpy(entries.data(), index, index_bytes);
  for (const auto& e : entries) {
    if (uint64_t{e.offset} + e.length > payload)
      return std::unexpected("record overruns the entry");
  }
  batch->buffer().append(body.substr(fixed));
  return StoredEntry{h.seq, std::move(batch)};
}

constexpr uint64_t kOldHeadBytes = SegmentStore::kOldPrefixBytes + 12; // prefix, seq, records

bool startsWithMagic(const char* p) {
  return get<uint32_t>(p) == SegmentStore::kMagic;
}

// The first offset in [from, end) where the magic starts, else `end`.
uint64_t findMagic(int fd, uint64_t from, uint64_t end) {
  constexpr size_t kChunk = 64 << 10;
  char magic[4];
  std::memcpy(magic, &SegmentStore::kMagic, 4);
  std::string buf;
  while (from + 4 <= end) {
    buf.resize(std::min<uint64_t>(kChunk, end - from));
    if (!readFull(fd, buf.data(), buf.size(), from)) return end;
    const auto* hit = static_cast<const char*>(::memmem(buf.data(), buf.size(), magic, 4));
    if (hit != nullptr) return from + static_cast<uint64_t>(hit - buf.data());
    if (buf.size() < 4) return end;
    from += buf.size() - 3; // a magic across the chunk boundary is found by the next read
  }
  return end;
}

} // namespace

namespace detail {

std::string errnoText(std::string_view what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

std::optional<Head> readHead(int fd, uint64_t offset, uint64_t end, bool old_format, bool torn_ok) {
  char h[SegmentStore::kHeaderBytes];
  if (end < offset || end - offset < kOldHeadBytes || !readFull(fd, h, kOldHeadBytes, offset))
    return std::nullopt;
  Head head;
  if (startsWithMagic(h)) {
    if (end - offset < sizeof h || !readFull(fd, h, sizeof h, offset)) return std::nullopt;
    if (crc32c(std::string_view(h, 24)) != get<uint32_t>(h + 24)) return std::nullopt;
    head.body_length = get<uint32_t>(h + 4);
    head.seq = get<uint64_t>(h + 8);
    head.records = get<uint32_t>(h + 16);
    head.body_crc = get<uint32_t>(h + 20);
    head.size = sizeof h + uint64_t{head.body_length};
  } else {
    if (!old_format) return std::nullopt;
    head.old_format = true;
    head.body_length = get<uint32_t>(h);
    head.body_crc = get<uint32_t>(h + 4);
    head.seq = get<uint64_t>(h + 8);
    head.records = get<uint32_t>(h + 16);
    head.size = SegmentStore::kOldPrefixBytes + uint64_t{head.body_length};
  }
  if (head.body_length < SegmentStore::kFixedBodyBytes) return std::nullopt;
  if (head.size > end - offset && !(torn_ok && !head.old_format)) return std::nullopt;
  return head;
}

std::optional<StoredEntry> readEntry(int fd, uint64_t offset, const Head& head, std::string& body) {
  body.resize(head.body_length);
  if (!readFull(fd, body.data(), body.size(), offset + head.size - head.body_length))
    return std::nullopt;
  if (crc32c(body) != head.body_crc) return std::nullopt;
  const Header h = parseHeader(body);
  if (h.seq != head.seq || h.records != head.records) return std::nullopt;
  auto entry = decodeBody(body);
  if (!entry) return std::nullopt;
  return std::move(*entry);
}

Damage findResume(int fd, uint64_t segment, uint64_t offset, uint64_t end, uint64_t min_seq,
                  uint64_t end_seq) {
  Damage d;
  d.segment = segment;
  d.offset = offset;
  d.first_seq = min_seq;
  std::string body;
  uint64_t p = offset;
  uint64_t floor = min_seq;
  bool exact_end = false; // the last entry stepped over ended the segment: nothing unknown after
  while (p < end) {
    const auto head = readHead(fd, p, end, false, true);
    if (head && head->seq >= floor) {
      if (head->size <= end - p && readEntry(fd, p, *head, body)) {
        d.resume = p;
        d.end_seq = head->seq;
        return d;
      }
      // The header survived: its records are known lost, and its length can be trusted.
      d.known_entries += 1;
      d.records += head->records;
      floor = head->seq + 1;
      exact_end = head->size >= end - p;
      p += std::min(head->size, end - p);
      continue;
    }
    exact_end = false;
    p = findMagic(fd, p + 1, end);
  }
  d.resume = end;
  d.end_seq = end_seq != UINT64_MAX ? end_seq : exact_end ? floor : UINT64_MAX;
  if (d.end_seq != UINT64_MAX && d.end_seq < min_seq + d.known_entries) d.end_seq = UINT64_MAX;
  return d;
}

ScanResult scanSegment(int fd, uint64_t file_size, uint64_t first_seq, uint64_t end_seq) {
  ScanResult r;
  r.next_seq = first_seq;
  char first[4];
  // Tentative: a damaged first magic looks the same. The entries found decide below.
  r.old_format = file_size >= 4 && readFull(fd, first, 4, 0) && !startsWithMagic(first);
  std::string body;
  uint64_t off = 0, old_entries = 0;
  while (off < file_size) {
    const auto head = readHead(fd, off, file_size, r.old_format);
    // The first format's entries follow one another without gaps.
    const bool in_order =
        head && (head->old_format ? head->seq == r.next_seq : head->seq >= r.next_seq);
    if (in_order && readEntry(fd, off, *head, body)) {
      old_entries += head->old_format ? 1 : 0;
      off += head->size;
      r.bytes = off;
      r.entries += 1;
      r.records += head->records;
      r.next_seq = head->seq + 1;
      continue;
    }
    Damage d = findResume(fd, first_seq, off, file_size, r.next_seq, end_seq);
    if (d.resume >= file_size) r.torn = true;
    r.damage.push_back(d);
    off = d.resume;
  }
  if (!r.torn) r.bytes = file_size;
  r.old_format = old_entries > 0;
  return r;
}

} // namespace detail

void SegmentStore::encodeEntry(const core::Batch& batch, uint64_t seq, std::string& out) {
  const size_t tag_len = std::min<size_t>(batch.tag().size(), UINT16_MAX);
  const auto records = static_cast<uint32_t>(batch.size());
  out.clear();
  out.resize(kHeaderBytes); // filled below
  put<uint64_t>(out, seq);
  put<uint32_t>(out, records);
  put<uint32_t>(out, batch.inputId());
  put<uint16_t>(out, static_cast<uint16_t>(tag_len));
  out.push_back(static_cast<char>(batch.format()));
  out.push_back(0);
  out.append(batch.tag().data(), tag_len);
  out.append(reinterpret_cast<const char*>(batch.entries().data()),
             batch.entries().size() * sizeof(core::RecordEntry));
  out.append(batch.buffer().view());
  const std::string_view body(out.data() + kHeaderBytes, out.size() - kHeaderBytes);
  std::string head;
  head.reserve(kHeaderBytes);
  put<uint32_t>(head, kMagic);
  put<uint32_t>(head, static_cast<uint32_t>(body.size()));
  put<uint64_t>(head, seq);
  put<uint32_t>(head, records);
  put<uint32_t>(head, crc32c(body));
  put<uint32_t>(head, crc32c(head));
  std::memcpy(out.data(), head.data(), kHeaderBytes);
}

} // namespace ferry::storage
