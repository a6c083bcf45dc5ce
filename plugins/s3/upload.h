// One object's upload as S3 wants it: PutObject when the object is smaller than the part
// size, else CreateMultipartUpload → UploadPart × n → CompleteMultipartUpload, and
// AbortMultipartUpload before a drop. The steps' order, the parts, the ETags and abandoned
// uploads are the kit's (ferry/sink/multipart.h); here are each step's wire form and the
// judging of its answer.
#pragma once

#include <string>
#include <string_view>

#include "config.h"
#include "ferry/aws/sigv4.h"
#include "ferry/sink/aws_call.h"
#include "ferry/sink/multipart.h"
#include "response.h"

namespace ferry::s3 {

using OrphanList = sink::OpenUploadList;
using Step = sink::UploadStep;
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

class S3Upload : public sink::MultipartUpload {
public:
  S3Upload(std::string key, core::ByteBuffer body, uint64_t part_size, size_t records,
           OrphanList* orphans, std::vector<sink::OpenUpload> orphan_aborts = {})
      : MultipartUpload(std::move(key), std::move(body), part_size, kMaxParts, records, orphans,
                        std::move(orphan_aborts)) {}

  // The call for the current step.
  S3Call call(const S3Config& config) const;
  // Judges the answer to the current step's call and advances. Verdicts: CONTINUE for a
  // step done with more to come, DELIVERED when the object exists, RETRY (same step after a
  // backoff), DROP (after the multipart upload was aborted).
  StepEvent onResponse(const S3Config& config, const ferry_http_response& response,
                       ferry_plugin_verdict& verdict);

  sink::SignedCall attempt; // the one being sent
};

// The AbortMultipartUpload call of an upload.
S3Call abortCall(const sink::OpenUpload& upload);

} // namespace ferry::s3
