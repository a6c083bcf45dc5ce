// Records → Datadog intake v2 JSON (≤ 1,000 entries, ≤ 5 MB uncompressed, ≤ 1 MB per entry).
// The issue asked for rapidjson's writer; we write JSON with the sink kit's record → JSON
// pieces (ferry/sink/record_json.h, json_message.h) on ferry::codec's writer instead (faster,
// and it escapes any bytes, replacing invalid UTF-8). rapidjson only reads a JSON message.
#include "encoder.h"

#include <algorithm>
#include <array>

#include "ferry/codec/json.h"
#include "ferry/codec/msgpack_scan.h"

namespace ferry::datadog {
namespace {

namespace mp = ferry::input::forward;
using sink::appendJsonMember;
using sink::ObjectResult;

constexpr std::string_view kMessageMember = "\"message\":";
constexpr std::string_view kTruncatedAttribute = ",\"ferry.truncated\":true";
// A JSON message's own message (else msg) becomes the message; its level/severity the status.
constexpr std::array<std::string_view, 2> kMessageKeys = {"message", "msg"};
constexpr std::array<std::string_view, 2> kLevelKeys = {"level", "severity"};

} // namespace

EncoderSettings EncoderSettings::fromConfig(const DatadogConfig& config, std::string hostname) {
  EncoderSettings s;
  s.message_key = config.message_key;
  s.service = config.service;
  s.source = config.source;
  s.tags = config.tags;
  s.hostname = std::move(hostname);
  s.parse_json_message = config.parse_json_message;
  s.status_from_level = config.status_from_level;
  s.provider = config.provider;
  s.max_entries = std::clamp<size_t>(config.max_entries, 1, kMaxEntries);
  s.max_payload_bytes = std::clamp(config.max_payload_bytes, kMinPayloadBytes, kMaxPayloadBytes);
  // One entry plus the array's brackets always fits in a request.
  s.max_entry_bytes = std::min(kMaxEntryBytes, s.max_payload_bytes - 2);
  return s;
}

DatadogEncoder::DatadogEncoder(EncoderSettings settings) : settings_(std::move(settings)) {
  settings_.max_entries = std::clamp<size_t>(settings_.max_entries, 1, kMaxEntries);
  settings_.max_payload_bytes = std::min(settings_.max_payload_bytes, kMaxPayloadBytes);
  settings_.max_entry_bytes =
      std::min({settings_.max_entry_bytes, kMaxEntryBytes, settings_.max_payload_bytes - 2});
}

EncodeStats DatadogEncoder::encodeJson(std::span<const ferry_plugin_record> records,
                                       core::ByteBuffer& out) {
  const sink::JsonArrayLimits limits{settings_.max_entries, settings_.max_payload_bytes};
  return sink::appendJsonArray(records, limits, out,
                               [&](const ferry_plugin_record& record, std::string_view& entry) {
                                 const ObjectResult result = encodeEntry(record);
                                 entry = entry_.view();
                                 return result;
                               });
}

ObjectResult DatadogEncoder::encodeEntry(const ferry_plugin_record& record) {
  owned_.clear();
  keys_.clear();
  attributes_.clear();
  message_ = {};
  has_message_ = false;
  level_json_ = {};
  keys_.insert("message");
  const std::string_view data(reinterpret_cast<const char*>(record.data), record.data_len);

  fields_.clear();
  size_t message_field = fields_.size(); // none
  if (record.format == FERRY_RECORD_LINE) {
    message_ = data; // a line record's line is its message whatever message_key says
    has_message_ = true;
  } else if (record.format == FERRY_RECORD_MSGPACK_MAP) {
    if (!fields_.scan(data, owned_)) return ObjectResult::kMalformed;
    message_field = fields_.find(settings_.message_key);
    if (message_field == fields_.size()) message_field = fields_.find("message");
    if (message_field < fields_.size()) {
      has_message_ = true;
      if (!sink::msgpackValueText(fields_[message_field].value, owned_, scratch_, message_))
        return ObjectResult::kMalformed; // a map or number as message: its JSON text
    }
  } else {
    return ObjectResult::kMalformed;
  }

  if (settings_.provider == Provider::kEcs) {
    if (message_field < fields_.size()) fields_[message_field].taken = true;
    if (!remapToTags()) return ObjectResult::kMalformed;
  }

  // The record's fields; the first of duplicated keys wins, "message" is ours.
  for (size_t i = 0; i < fields_.size(); ++i) {
    const sink::RecordField& f = fields_[i];
    if (i == message_field || f.taken || !keys_.insert(f.key)) continue;
    appendJsonMember(attributes_, f.key);
    const size_t at = attributes_.size();
    if (codec::appendMsgpackAsJson(attributes_, f.value) == 0) return ObjectResult::kMalformed;
    if (level_json_.empty() && (f.key == "level" || f.key == "severity")) {
      level_json_ = owned_.add(attributes_.view(at, attributes_.size() - at));
    }
  }

  if (settings_.parse_json_message) spliceJsonMessage();
  appendTail(record.timestamp_ns);

  message_json_.clear();
  codec::appendJsonString(message_json_, message_);
  // No message field (a parser took `log` apart, say): no "message" either, as Fluent Bit
  // sends it, so Datadog's message remapper can pick `msg` and the like.
  const sink::JsonObjectParts parts{.lead_member = has_message_ ? kMessageMember : "",
                                    .lead_value = message_json_.view(),
                                    .members = attributes_.view(),
                                    .truncated_member = kTruncatedAttribute};
  return sink::writeJsonObject(entry_, parts, settings_.max_entry_bytes);
}

bool DatadogEncoder::remapToTags() {
  tags_.clear();
  for (sink::RecordField& f : fields_) {
    if (f.taken) continue; // the message
    mp::MsgpackHeader header;
    mp::MsgpackCursor cursor(f.value);
    std::string_view text;
    // As Fluent Bit: only a non-empty string value moves (a bin, number or map stays).
    if (cursor.peek(header) && header.kind == mp::MsgpackHeader::Kind::kStr &&
        cursor.readStr(text)) {
      f.taken = appendEcsTags(f.key, text, tags_);
    }
  }
  if (tags_.empty()) return true; // no ECS field: ddtags as without the provider
  // The moved tags come first, then the record's own ddtags (which, as everywhere, replace the
  // configured ones) or else the configured tags: Fluent Bit appends dd_tags the same way.
  std::string_view base = settings_.tags;
  for (sink::RecordField& f : fields_) {
    if (f.taken || f.key != "ddtags") continue;
    f.taken = true; // the first wins; keys_ below keeps any later one out
    // A number or map: its JSON text, as for a message.
    if (!sink::msgpackValueText(f.value, owned_, scratch_, base)) return false;
    break;
  }
  if (!base.empty()) {
    tags_.push_back(',');
    tags_.append(base);
  }
  keys_.insert("ddtags"); // also keeps a parsed JSON message's ddtags member out
  appendJsonMember(attributes_, "ddtags");
  codec::appendJsonString(attributes_, tags_);
  return true;
}

void DatadogEncoder::spliceJsonMessage() {
  const sink::JsonSpliceKeys splice{kMessageKeys, kLevelKeys};
  if (!sink::spliceJsonObject(message_, splice, keys_, owned_, attributes_, spliced_)) return;
  for (const std::string_view key : spliced_.keys)
    keys_.insert(key);
  auto take = [&](const sink::JsonCapture& c) {
    message_ = owned_.add(c.is_string ? std::string_view(c.text) : c.json.view());
  };
  const sink::JsonCapture& message = spliced_.captured[0];
  const sink::JsonCapture& msg = spliced_.captured[1];
  if (message.present) {
    take(message);
    // "message" won: a "msg" member stays an attribute (unless the record has one).
    if (msg.present && keys_.insert("msg")) {
      appendJsonMember(attributes_, "msg");
      attributes_.append(msg.json.view());
    }
  } else if (msg.present) {
    take(msg);
  }
  if (level_json_.empty() && !spliced_.noted.empty()) level_json_ = owned_.add(spliced_.noted);
}

void DatadogEncoder::appendTail(int64_t timestamp_ns) {
  // Configured values only where the record (or its JSON message) has none of its own.
  auto add = [&](std::string_view key, std::string_view value) {
    if (value.empty() || !keys_.insert(key)) return;
    appendJsonMember(attributes_, key);
    codec::appendJsonString(attributes_, value);
  };
  add("ddsource", settings_.source);
  add("service", settings_.service);
  add("ddtags", settings_.tags);
  add("hostname", settings_.hostname);
  if (keys_.insert("timestamp")) {
    appendJsonMember(attributes_, "timestamp");
    // To the nearest millisecond, half up, as Fluent Bit's out_datadog rounds: the same
    // record gets the same timestamp from either, so the two agree on order and dedup.
    const fmt::format_int ms(sink::roundedMillis(timestamp_ns));
    attributes_.append(ms.data(), ms.size());
  }
  if (settings_.status_from_level && !level_json_.empty() && keys_.insert("status")) {
    appendJsonMember(attributes_, "status");
    attributes_.append(level_json_);
  }
}
// ---- Requests -------------------------------------------------------------------------------

std::expected<std::unique_ptr<DatadogRequest>, std::string>
encodeRequest(DatadogEncoder& encoder, codec::Compression compression, int level,
              std::span<const ferry_plugin_record> records, core::ByteBuffer& json,
              EncodeStats& stats) {
  stats = encoder.encodeJson(records, json);
  if (stats.entries == 0) return std::unique_ptr<DatadogRequest>(); // every record dropped
  auto request = std::make_unique<DatadogRequest>();
  request->entries = stats.entries;
  request->json_bytes = json.size();
  if (compression == codec::Compression::kNone) {
    request->body = std::move(json);
    json = core::ByteBuffer();
  } else {
    request->body.reserve(json.size() / 4 + 64);
    if (auto ok = codec::compress(compression, level, json.view(), request->body); !ok) {
      return std::unexpected(fmt::format("{} compression failed: {}",
                                         codec::compressionName(compression), ok.error()));
    }
  }
  request->body.shrinkToFit(); // it waits for its answer at this size
  return request;
}

std::vector<std::string> requestHeaders(const DatadogConfig& config) {
  std::vector<std::string> headers;
  headers.push_back("DD-API-KEY: " + config.api_key);
  headers.emplace_back("Content-Type: application/json");
  const std::string_view encoding = codec::contentEncoding(config.compression);
  if (!encoding.empty()) headers.push_back(fmt::format("Content-Encoding: {}", encoding));
  headers.emplace_back("DD-EVP-ORIGIN: ferry");
  headers.emplace_back("DD-EVP-ORIGIN-VERSION: " FERRY_VERSION);
  return headers;
}

} // namespace ferry::datadog
