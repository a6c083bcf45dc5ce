// One object's upload as a request the runner holds: PutObject when the object is smaller
// than the part size, else CreateMultipartUpload → UploadPart × n → CompleteMultipartUpload
// (each step answered CONTINUE), AbortMultipartUpload before a drop. An upload still open
// when the request is freed (the runner gave up) is handed to the OrphanList; the next
// request aborts it first, so no half-finished upload keeps costing storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "ferry/aws/sigv4.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "response.h"

namespace ferry::s3 {

struct OpenUpload {
  std::string key;
  std::string upload_id;
};

// Multipart uploads abandoned by freed requests. Thread-safe (requests may be freed on the
// runner thread, the sink destroyed on the main thread).
class OrphanList {
public:
  void add(OpenUpload upload);
  // Takes up to `max` of them.
  std::vector<OpenUpload> take(size_t max);
  size_t size() const;

private:
  mutable std::mutex mu_;
  std::vector<OpenUpload> items_;
};

enum class Step { kAbortOrphan, kPut, kCreate, kPart, kComplete, kAbort, kDone };
std::string_view stepName(Step step);

// One HTTP call before signing: the signer adds Host, X-Amz-Date, x-amz-content-sha256,
// the security token and Authorization.
struct S3Call {
  std::string method;
  std::string key;
  std::string query; // wire form, without '?'
  std::string_view body;
  aws::Headers headers;
};

// What happened, for the sink's counters and logs.
struct StepEvent {
  bool object_done = false;    // PutObject or Complete succeeded
  bool part_done = false;      // an UploadPart succeeded
  bool upload_aborted = false; // an Abort (own or orphan) got its answer
  bool abort_failed = false;
};

class S3Upload : public sdk::Request {
public:
  S3Upload(std::string key, core::ByteBuffer body, uint64_t part_size, size_t records,
           OrphanList* orphans, std::vector<OpenUpload> orphan_aborts = {});
  ~S3Upload() override;

  Step step() const;
  const std::string& key() const { return key_; }
  size_t records() const { return records_; }
  size_t partCount() const { return part_count_; }
  uint64_t bodySize() const { return body_.size(); }
  uint64_t heldBytes() const override { return body_.capacity() + complete_xml_.capacity(); }
  const std::string& uploadId() const { return upload_id_; }

  // The call for the current step.
  S3Call call(const S3Config& config) const;
  // Judges the answer to the current step's call and advances. Verdicts: CONTINUE for a
  // step done with more to come, DELIVERED when the object exists, RETRY (same step after a
  // backoff), DROP (after the multipart upload was aborted).
  StepEvent onResponse(const S3Config& config, const ferry_http_response& response,
                       ferry_plugin_verdict& verdict);

  // Cached SHA-256 of the current call's body (a 5 MiB part is hashed once, not per retry).
  const std::string& payloadHash(std::string_view body);

  // The attempt being sent, kept alive for the host until the next call on this request.
  std::string url;
  std::vector<std::string> header_lines;
  std::vector<const char*> header_ptrs;

private:
  std::string_view partBody(size_t index) const;
  std::string completeXml() const;

  std::string key_;
  core::ByteBuffer body_;
  uint64_t part_size_;
  size_t part_count_; // 0: PutObject
  size_t records_;
  // Non-owning (a raw pointer, not shared_ptr: the plugin must export only the ABI symbols,
  // and shared_ptr's type info would leak out): the sink owns it and, per the ABI, frees every
  // request before itself.
  OrphanList* orphans_;
  std::vector<OpenUpload> orphan_aborts_; // done first, last one first

  Step step_;
  std::string upload_id_;
  size_t next_part_ = 0;
  std::vector<std::string> etags_;
  std::string complete_xml_;
  ferry_plugin_verdict drop_verdict_{}; // given once the abort before a drop has answered

  const void* hashed_data_ = nullptr;
  size_t hashed_len_ = 0;
  std::string hash_;
};

// Parts for an object of `size` bytes: 0 when it goes in one PutObject (size < part_size),
// else ceil(size / part), the part grown when needed to stay within S3's 10,000 parts.
size_t partCountFor(uint64_t size, uint64_t& part_size);

} // namespace ferry::s3
