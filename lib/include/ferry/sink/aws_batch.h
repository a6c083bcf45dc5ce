// The sink kit, AWS batch part: what Firehose PutRecordBatch and Kinesis Data Streams
// PutRecords have in common. Both take a JSON 1.1 body
//   {"<stream member>":"<name>","Records":[{"Data":"<base64>"<more members>},...]}
// signed with SigV4 at each attempt, and answer 200 with a failed count and one result per
// record, in order, a failed one carrying an ErrorCode. A request is narrowed to the records
// that failed and only those are sent again (never the whole call: no duplicates). Each sink
// names what differs (AwsBatchApi) and builds its records; the rest is here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/http.h"

namespace ferry::sink {

// Base64 (RFC 4648, padded, no line breaks), as the JSON protocol carries blobs.
size_t base64Length(size_t raw_bytes);
void appendBase64(core::ByteBuffer& out, std::string_view raw);

// What differs between the batch APIs (a sink's constant).
struct AwsBatchApi {
  std::string_view service;       // SigV4 service: "firehose"
  std::string_view target;        // X-Amz-Target: "Firehose_20150804.PutRecordBatch"
  std::string_view stream_member; // "DeliveryStreamName"
  std::string_view failed_count;  // "FailedPutCount"
  std::string_view results;       // "RequestResponses"
  std::string_view vendor;        // "Firehose" (messages)
  std::string_view permission;    // "firehose:PutRecordBatch" (messages)
  std::string_view stream_noun;   // "delivery stream" (messages)
  std::string_view stream_option; // "delivery_stream" (messages)
};

inline constexpr std::string_view kAwsJsonContentType = "application/x-amz-json-1.1";

// One record: its JSON object and its base64 text inside the request's body.
struct AwsBatchRecord {
  size_t entry = 0;        // offset of the record's {...} in body
  size_t entry_length = 0; // bytes of the {...}
  size_t offset = 0;       // of the base64 text in body
  size_t length = 0;       // raw bytes (before base64)
  uint32_t log_records = 0;
};

// A request as the runner holds it: the body and nothing else (raw data is base64-encoded
// straight into it, so a request costs its body, once). After a partial failure it is
// narrowed to the records that failed (retain()), their JSON objects moved as they are.
class AwsBatchRequest : public sdk::Request {
public:
  explicit AwsBatchRequest(const AwsBatchApi& api) : api(&api) {}

  const AwsBatchApi* api;
  std::string_view stream;             // the instance's config outlives its requests
  std::vector<AwsBatchRecord> records; // still to deliver, in order
  core::ByteBuffer body;
  std::string payload_hash; // hex SHA-256 of body, for SigV4 (set when signing)
  // The attempt last described (ferry_http_request points into these).
  std::vector<std::string> headers;
  std::vector<const char*> header_ptrs;

  // Writing the body: begin() (reserving about `expected_bytes`), add() each record's raw
  // data with the JSON text of any members after Data (`,"PartitionKey":"k"`), finish().
  void begin(size_t expected_bytes = 0);
  void add(std::string_view raw, uint32_t log_records, std::string_view members = {});
  void finish();

  // A record's raw data, decoded from the body (tests, logs).
  std::string recordData(const AwsBatchRecord& r) const;
  uint64_t logRecords() const;
  // Keeps only the records whose flag is set (keep.size() == records.size()), rebuilds the
  // body; returns the log records of those removed.
  uint64_t retain(const std::vector<bool>& keep);

  uint64_t heldBytes() const override {
    return body.capacity() + records.capacity() * sizeof(AwsBatchRecord);
  }

private:
  void startRecord(size_t raw_length, uint32_t log_records);
};

// Bytes of a body without records, and what one record adds (raw data of raw_bytes, more
// members of member_bytes), so an encoder can size a call before writing it.
size_t batchFixedBytes(const AwsBatchApi& api, std::string_view stream);
size_t batchRecordBytes(size_t raw_bytes, size_t member_bytes, bool first);

// One attempt as the host sends it: POST <endpoint>, Host, Content-Type, X-Amz-Target,
// signed at the attempt's own time (a retry an hour later carries a fresh date). The body's
// hash is kept with the request until the body is rebuilt.
void describeBatchAttempt(AwsBatchRequest& request, const HttpUrl& endpoint, const std::string& url,
                          const std::string& region, const aws::Credentials& credentials,
                          aws::SystemTime now, ferry_http_request& out);

// Where a batch sink sends: its stream (option `stream_option`: 1..max_chars of letters,
// digits, _ . -, as Firehose and Kinesis name streams), its region (`region`, else the
// environment) and its endpoint (`endpoint`, else https://<service>.<region>.amazonaws.com/).
struct AwsStreamTarget {
  std::string stream, region;
  HttpUrl endpoint;
  std::string url; // endpoint.text(): what the host sends to
};
std::expected<AwsStreamTarget, std::string> parseAwsStreamTarget(const sdk::Options& options,
                                                                 const char* stream_option,
                                                                 size_t max_chars,
                                                                 std::string_view service);

// The default AWS credentials chain for a sink (web identity through sts_endpoint when set);
// a first failure is logged ("...; will keep trying"), not fatal: ECS or IMDS may answer later.
aws::CredentialsProviderPtr defaultAwsCredentials(const sdk::Host& host,
                                                  const std::string& sts_endpoint = {});

// The AWS error type of a failed call: "__type" (or "code") of the JSON body, else the
// x-amzn-ErrorType header, without a "namespace#" prefix or ":uri" suffix. Empty if none.
std::string awsErrorType(const ferry_http_response& response);

// Judges one attempt. 200 with no failure: delivered; some failed: narrowed to them
// (PARTIAL); unreadable: retried whole. Errors by their AWS type: throttling and 5xx
// retried (throttled), a missing stream, refused credentials or an unusable KMS key retried
// and unhealthy, 413 split, any other 4xx dropped. region is only for messages.
void judgeBatchResponse(AwsBatchRequest& request, const ferry_http_response& response,
                        ferry_plugin_verdict& verdict, std::string_view region);

// The HTTP half every batch sink shares: each attempt signed with the current credentials
// (none yet: an error, and the runner retries after a backoff while the provider keeps
// trying), each answer judged, and the records refused inside a 200 counted
// (failed_put_records). Its requests are AwsBatchRequests; a sink adds encode().
class AwsBatchSink : public sdk::Sink {
public:
  AwsBatchSink(const sdk::Host& host, HttpUrl endpoint, std::string region,
               aws::CredentialsProviderPtr credentials);

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override;
  void httpResponse(sdk::Request& request, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override;

protected:
  sdk::Host host_;

private:
  HttpUrl endpoint_;
  std::string url_;
  std::string region_;
  aws::CredentialsProviderPtr credentials_;
};

} // namespace ferry::sink
