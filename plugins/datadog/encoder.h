// Records → a Datadog Logs intake v2 request: a JSON array of entries (message, ddsource,
// service, ddtags, hostname, timestamp, the record's fields), at most 1,000 entries and
// 5 MB uncompressed, each entry at most 1 MB (a longer message is truncated), compressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "ferry/codec/compress.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"

namespace ferry::datadog {

struct EncoderSettings {
  std::string message_key = "log";
  std::string service;  // empty: no `service`
  std::string source;   // empty: no `ddsource`
  std::string tags;     // empty: no `ddtags`
  std::string hostname; // empty: no `hostname`
  bool parse_json_message = false;
  bool status_from_level = true;       // a level/severity field is also sent as `status`
  Provider provider = Provider::kNone; // kEcs: the ECS fields become ddtags (remap.h)
  size_t max_entries = kMaxEntries;
  size_t max_payload_bytes = kMaxPayloadBytes;
  size_t max_entry_bytes = kMaxEntryBytes;

  static EncoderSettings fromConfig(const DatadogConfig& config, std::string hostname);
};

// What one encode call covered.
struct EncodeStats {
  size_t consumed = 0;  // leading records covered (entries + dropped)
  size_t entries = 0;   // objects in the array
  size_t dropped = 0;   // malformed, or too large even with an empty message
  size_t truncated = 0; // entries whose message was cut to fit kMaxEntryBytes
};

// Keys already written into one entry, so that no entry carries a key twice. Most records
// have a handful of fields (a linear scan wins); a large one switches to open addressing.
// (Hand-rolled rather than std::unordered_set: libstdc++'s out-of-line template code would be
// exported from the plugin, which must export only the ABI symbols.)
class KeySet {
public:
  void clear();
  // Adds key; false when it was already there. The view must outlive the next clear().
  bool insert(std::string_view key);
  bool contains(std::string_view key) const;

private:
  static constexpr size_t kLinearLimit = 24;
  size_t slot(std::string_view key) const; // where key is, or the empty slot it would take
  void rehash(size_t capacity);
  std::vector<std::string_view> keys_;  // in insertion order
  std::vector<std::string_view> slots_; // hash table (power-of-two size) once keys_ is large
};

// Strings an entry owns (keys that were not strings, JSON texts): stable addresses, so
// string_views into them stay valid until clear().
class StringArena {
public:
  std::string_view add(std::string_view s);
  void clear() { used_ = 0; }

private:
  std::vector<std::unique_ptr<std::string>> strings_; // reused between entries
  size_t used_ = 0;
};

// Turns records into the JSON body. Not thread-safe: it keeps scratch buffers, one encoder per
// encoding thread (parallel_encode is on: the plugin's encode() borrows one per call).
class DatadogEncoder {
public:
  explicit DatadogEncoder(EncoderSettings settings);

  // Writes into `out` (cleared first) a JSON array of as many leading records as the limits
  // allow: stops before the entry that would pass max_entries or max_payload_bytes. Always
  // consumes at least one record when there is one.
  EncodeStats encodeJson(std::span<const ferry_plugin_record> records, core::ByteBuffer& out);

  const EncoderSettings& settings() const { return settings_; }

private:
  enum class EntryResult { kOk, kTruncated, kMalformed, kTooLarge };
  struct Field {
    std::string_view key;
    std::string_view value; // raw msgpack of the value
    bool taken = false;     // moved into ddtags by the provider
  };

  // Encodes one record as a complete JSON object into entry_.
  EntryResult encodeEntry(const ferry_plugin_record& record);
  bool scanFields(std::string_view map);
  // Parses message_ as a JSON object into json_members_ (see parseJsonMessage in encoder.cc).
  bool parseJsonMessage();
  // provider ecs: moves the ECS fields into ddtags, written at once into attributes_.
  bool remapToTags();
  void appendTail(int64_t timestamp_ns);
  EntryResult assemble();

  EncoderSettings settings_;
  // Per-entry scratch, kept between records to avoid allocations.
  std::vector<Field> fields_;
  StringArena owned_; // keys and texts that are not views into the record
  KeySet keys_;
  std::vector<uint64_t> skip_stack_;
  std::string_view message_;      // the message text (view into the record or owned_)
  bool has_message_ = false;      // false: the record has no message field (no "message")
  std::string tags_;              // ddtags built by the provider
  std::string_view level_json_;   // JSON of the level/severity value, for `status`
  core::ByteBuffer scratch_;      // a non-string message or key rendered as JSON
  core::ByteBuffer message_json_; // "message" string literal
  core::ByteBuffer attributes_;   // ,"key":value ... (no closing brace)
  core::ByteBuffer json_members_; // members of a parsed JSON message, same form
  core::ByteBuffer entry_;        // the finished object
};

// A request as the runner holds it: the body as sent, and what it covers.
class DatadogRequest : public sdk::Request {
public:
  core::ByteBuffer body;
  size_t entries = 0;
  size_t json_bytes = 0; // uncompressed size

  uint64_t heldBytes() const override { return body.capacity(); }
};

// Encodes and compresses one request. `json` is scratch space for the uncompressed body.
std::expected<std::unique_ptr<DatadogRequest>, std::string>
encodeRequest(DatadogEncoder& encoder, codec::Compression compression, int level,
              std::span<const ferry_plugin_record> records, core::ByteBuffer& json,
              EncodeStats& stats);

// The header lines every request carries: DD-API-KEY, Content-Type, Content-Encoding (unless
// uncompressed) and DD-EVP-ORIGIN.
std::vector<std::string> requestHeaders(const DatadogConfig& config);

} // namespace ferry::datadog
