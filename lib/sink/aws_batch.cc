// The sink kit's AWS batch calls: base64, the body ({"<stream member>":s,"Records":[...]})
// written once and narrowed by moving the failed records' JSON as it is, and SigV4 per
// attempt. Sizes are computed before anything is written (batchFixedBytes,
// batchRecordBytes), so an encoder can stop before a vendor limit.
#include "ferry/sink/aws_batch.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <chrono>

#include <fmt/format.h>

#include "ferry/aws/sigv4.h"
#include "ferry/codec/json.h"
#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"
#include "ferry/sink/aws.h"

namespace ferry::sink {
namespace {

constexpr std::string_view kRecordsStart = ",\"Records\":[";
constexpr std::string_view kBodyEnd = "]}";
constexpr std::string_view kDataStart = "{\"Data\":\"";

} // namespace

size_t base64Length(size_t raw_bytes) {
  return (raw_bytes + 2) / 3 * 4;
}

void appendBase64(core::ByteBuffer& out, std::string_view raw) {
  const size_t n = base64Length(raw.size());
  // EVP_EncodeBlock writes a NUL after the text and takes an int length: encode in chunks
  // (a multiple of 3 bytes, so no padding appears in the middle).
  constexpr size_t kChunk = 3 * (1 << 20);
  out.reserve(out.size() + n + 1);
  size_t done = 0;
  while (done < raw.size()) {
    const size_t len = std::min(kChunk, raw.size() - done);
    auto* dst = reinterpret_cast<unsigned char*>(out.prepare(base64Length(len) + 1));
    const int written = EVP_EncodeBlock(
        dst, reinterpret_cast<const unsigned char*>(raw.data() + done), static_cast<int>(len));
    out.commit(static_cast<size_t>(written));
    done += len;
  }
}

size_t batchFixedBytes(const AwsBatchApi& api, std::string_view stream) {
  core::ByteBuffer name;
  codec::appendJsonString(name, stream);
  // {"<member>":<name>,"Records":[]}
  return 1 + api.stream_member.size() + 3 + name.size() + kRecordsStart.size() + kBodyEnd.size();
}

size_t batchRecordBytes(size_t raw_bytes, size_t member_bytes, bool first) {
  // [,]{"Data":"<base64>"<members>}
  return (first ? 0 : 1) + kDataStart.size() + base64Length(raw_bytes) + 1 + member_bytes + 1;
}

void AwsBatchRequest::begin(size_t expected_bytes) {
  records.clear();
  body.clear();
  body.reserve(std::max(expected_bytes, batchFixedBytes(*api, stream)));
  body.push_back('{');
  codec::appendJsonString(body, api->stream_member);
  body.push_back(':');
  codec::appendJsonString(body, stream);
  body.append(kRecordsStart);
}

void AwsBatchRequest::startRecord(size_t raw_length, uint32_t log_records) {
  if (!records.empty()) body.push_back(',');
  records.push_back({body.size(), 0, body.size() + kDataStart.size(), raw_length, log_records});
  body.append(kDataStart);
}

void AwsBatchRequest::add(std::string_view raw, uint32_t log_records, std::string_view members) {
  startRecord(raw.size(), log_records);
  appendBase64(body, raw);
  body.push_back('"');
  body.append(members);
  body.push_back('}');
  records.back().entry_length = body.size() - records.back().entry;
}

void AwsBatchRequest::finish() {
  body.append(kBodyEnd);
  body.shrinkToFit(); // reserved generously; held until the answer comes
  payload_hash.clear();
}

std::string AwsBatchRequest::recordData(const AwsBatchRecord& r) const {
  const std::string_view text = body.view(r.offset, base64Length(r.length));
  std::string raw(text.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  raw.resize(n < 0 ? 0 : r.length); // EVP_DecodeBlock counts the padding as zero bytes
  return raw;
}

uint64_t AwsBatchRequest::logRecords() const {
  uint64_t n = 0;
  for (const auto& r : records)
    n += r.log_records;
  return n;
}

uint64_t AwsBatchRequest::retain(const std::vector<bool>& keep) {
  uint64_t removed = 0;
  size_t expected = batchFixedBytes(*api, stream);
  for (size_t i = 0; i < records.size(); ++i) {
    if (i < keep.size() && keep[i]) expected += records[i].entry_length + 1;
  }
  const std::vector<AwsBatchRecord> old_records = std::move(records);
  const core::ByteBuffer old_body = std::move(body);
  begin(expected);
  for (size_t i = 0; i < old_records.size(); ++i) {
    const AwsBatchRecord& r = old_records[i];
    if (!(i < keep.size() && keep[i])) {
      removed += r.log_records;
      continue;
    }
    // The record's JSON moves as it is: the raw data is not kept.
    if (!records.empty()) body.push_back(',');
    records.push_back(
        {body.size(), r.entry_length, body.size() + (r.offset - r.entry), r.length, r.log_records});
    body.append(old_body.view(r.entry, r.entry_length));
  }
  finish();
  assert(body.size() + (records.empty() ? 0 : 1) == expected); // no comma before the first
  return removed;
}

void describeBatchAttempt(AwsBatchRequest& request, const HttpUrl& endpoint, const std::string& url,
                          const std::string& region, const aws::Credentials& credentials,
                          aws::SystemTime now, ferry_http_request& out) {
  if (request.payload_hash.empty()) request.payload_hash = aws::sha256Hex(request.body.view());
  aws::SigV4Request sig;
  sig.method = "POST";
  sig.path = endpoint.path;
  // Host is sent explicitly too, so what is signed is exactly what libcurl sends.
  sig.headers = {{"Host", endpoint.host},
                 {"Content-Type", std::string(kAwsJsonContentType)},
                 {"X-Amz-Target", std::string(request.api->target)}};
  sig.payload = request.body.view();
  sig.payload_hash = request.payload_hash;
  const aws::SigV4Result signature = aws::sign(sig, credentials, region, request.api->service, now);

  request.headers.clear();
  for (const auto& [name, value] : sig.headers)
    request.headers.push_back(fmt::format("{}: {}", name, value));
  for (const auto& [name, value] : signature.headers)
    request.headers.push_back(fmt::format("{}: {}", name, value));
  request.header_ptrs.clear();
  for (const auto& h : request.headers)
    request.header_ptrs.push_back(h.c_str());

  out.method = "POST";
  out.url = url.c_str();
  out.headers = request.header_ptrs.data();
  out.header_count = request.header_ptrs.size();
  out.body = reinterpret_cast<const uint8_t*>(request.body.data());
  out.body_len = request.body.size();
}

std::expected<AwsStreamTarget, std::string> parseAwsStreamTarget(const sdk::Options& options,
                                                                 const char* stream_option,
                                                                 size_t max_chars,
                                                                 std::string_view service) {
  AwsStreamTarget t;
  t.stream = std::string(core::trim(options.string(stream_option)));
  const auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  };
  if (t.stream.size() > max_chars || !std::all_of(t.stream.begin(), t.stream.end(), name_char)) {
    return std::unexpected(
        fmt::format("{}: '{}' is not a stream name (1-{} of letters, digits, _ . -)", stream_option,
                    obs::logSnippet(t.stream, max_chars + 16), max_chars));
  }
  auto where = parseAwsService(options, service);
  if (!where) return std::unexpected(where.error());
  t.region = std::move(where->region);
  t.endpoint = std::move(where->endpoint);
  t.url = std::move(where->url);
  return t;
}

aws::CredentialsProviderPtr defaultAwsCredentials(const sdk::Host& host,
                                                  const std::string& sts_endpoint) {
  aws::CredentialSourceOptions sources;
  sources.sts_endpoint = sts_endpoint;
  auto credentials = aws::CredentialsProvider::createDefault(sources);
  if (auto first = credentials->initial(); !first)
    host.log(FERRY_LOG_WARN, "{}; will keep trying", first.error());
  return credentials;
}

AwsBatchSink::AwsBatchSink(const sdk::Host& host, HttpUrl endpoint, std::string region,
                           aws::CredentialsProviderPtr credentials)
    : host_(host), endpoint_(std::move(endpoint)), url_(endpoint_.text()),
      region_(std::move(region)), credentials_(std::move(credentials)) {}

std::expected<void, std::string> AwsBatchSink::httpRequest(sdk::Request& request,
                                                           ferry_http_request& out) {
  auto current = credentials_->current();
  if (!current) return std::unexpected("no AWS credentials available yet (see the aws log lines)");
  describeBatchAttempt(static_cast<AwsBatchRequest&>(request), endpoint_, url_, region_, *current,
                       std::chrono::system_clock::now(), out);
  return {};
}

void AwsBatchSink::httpResponse(sdk::Request& request, const ferry_http_response& response,
                                ferry_plugin_verdict& verdict) {
  auto& r = static_cast<AwsBatchRequest&>(request);
  judgeBatchResponse(r, response, verdict, region_);
  // Records refused inside a 200 answer, resent on their own.
  if (verdict.kind == FERRY_VERDICT_PARTIAL) host_.count("failed_put_records", r.records.size());
}

} // namespace ferry::sink
