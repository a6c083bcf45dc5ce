// The sink kit, AWS object-store sinks: one request = one object, built as NDJSON
// (ferry/sink/compressed_object.h) and uploaded as a MultipartUpload (ferry/sink/multipart.h).
// The runner's limits carry the object's boundaries: it offers at most the sink's offer bytes
// per encode (the object closes once its compressed size reaches its target; the rest becomes
// the next object) and flushes a partial object after the sink's flush interval. So records
// are acknowledged only when the object holding them exists, and a retry re-sends the same
// key (no duplicate objects).
//
// Here is what every such sink does alike: the encode (object, key from the key template,
// upload, with up to kOrphanAbortsPerRequest abandoned uploads to abort first), each attempt
// signed with the current credentials, the counters and logs of each answer, and at shutdown
// the uploads still abandoned aborted within kShutdownAbortBudgetMs. The sink writes each
// step's call and judges its answer (the three hooks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ferry/aws/credentials.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_call.h"
#include "ferry/sink/aws_object.h"
#include "ferry/sink/compressed_object.h"
#include "ferry/sink/multipart.h"

namespace ferry::sink {

// What one answer did, for the sink's counters and logs.
struct UploadEvent {
  bool object_done = false;    // the one put or the complete step succeeded
  bool part_done = false;      // a part was uploaded
  bool upload_aborted = false; // an abort (own or abandoned upload) got its answer
  bool abort_failed = false;
};

// An upload with the signed attempt being sent (the host reads it until the answer).
class AwsObjectUpload : public MultipartUpload {
public:
  using MultipartUpload::MultipartUpload;
  SignedCall attempt;
};

// What the sink base needs of a store and its options.
struct AwsObjectStore {
  AwsObjectTarget target;
  std::string service;    // SigV4 service: "s3"
  std::string uri_scheme; // of the log lines: "s3" in s3://bucket/key
  std::string key_format; // the key template (option key_format)
  std::string tag_delimiters = ".";
  size_t max_key_bytes = 1024;
  uint64_t part_size = 0;
  uint64_t max_parts = 0;
  ObjectSettings object;
  // The log line of an abort that failed ends with what removes such uploads later.
  std::string_view abandoned_hint;
};

// The abort steps (kAbortOrphan, kAbort), the same for every store. Their call: the DELETE of
// the abandoned upload or of this one; nullopt for another step.
std::optional<AwsRestCall> abortStepCall(const MultipartUpload& upload);
// Their answer, best effort: 2xx, or 404 (already gone), ends it; anything else is left to a
// later request or the store's lifecycle rule rather than holding up this object. nullopt
// (and nothing changed) for another step.
std::optional<UploadEvent> abortStepAnswered(MultipartUpload& upload,
                                             const ferry_http_response& response,
                                             ferry_plugin_verdict& verdict);

class AwsObjectSink : public sdk::Sink {
public:
  AwsObjectSink(const sdk::Host& host, AwsObjectStore store,
                aws::CredentialsProviderPtr credentials);
  // Aborts the uploads still abandoned (a short blocking call each, within the budget).
  ~AwsObjectSink() override;

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override;
  // Never waits on the network: the provider refreshes on its own thread.
  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override;
  void httpResponse(sdk::Request& request, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override;

protected:
  // The name of a step in messages ("PutObject").
  virtual std::string_view stepName(UploadStep step) const = 0;
  // The call of the upload's current step (never an abort step).
  virtual AwsRestCall call(const AwsObjectUpload& upload) const = 0;
  // Judges the answer to the current step's call (never an abort step) and advances the
  // upload: CONTINUE for a
  // step done with more to come, DELIVERED when the object exists, RETRY (the same step after
  // a backoff), DROP (after the upload was aborted).
  virtual UploadEvent judge(AwsObjectUpload& upload, const ferry_http_response& response,
                            ferry_plugin_verdict& verdict) = 0;

  sdk::Host host_;

private:
  void abortNow(const OpenUpload& upload, uint64_t timeout_ms) const;

  AwsObjectStore store_;
  aws::CredentialsProviderPtr credentials_;
  std::unique_ptr<OpenUploadList> orphans_; // outlives every request (the ABI frees them first)
  core::ByteBuffer scratch_;
  uint64_t index_ = 0; // objects opened: $INDEX (from 1, as Fluent Bit's seq_index)
};

} // namespace ferry::sink
