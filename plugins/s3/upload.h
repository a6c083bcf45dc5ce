// One object's upload as S3 wants it: PutObject when the object is smaller than the part
// size, else CreateMultipartUpload → UploadPart × n → CompleteMultipartUpload, and
// AbortMultipartUpload before a drop. The steps' order, the parts, the ETags, the aborts and
// abandoned uploads are the kit's (ferry/sink/multipart.h, ferry/sink/aws_object_sink.h);
// here are the other steps' wire form and the judging of their answers.
#pragma once

#include <string_view>

#include "config.h"
#include "ferry/sink/aws_object_sink.h"
#include "response.h"

namespace ferry::s3 {

using S3Upload = sink::AwsObjectUpload;
using S3Call = sink::AwsRestCall;
using Step = sink::UploadStep;
std::string_view stepName(Step step);

// The call for the current step (not an abort step: sink::abortStepCall).
S3Call uploadCall(const S3Upload& upload, const S3Config& config);
// Judges the answer to the current step's call (not an abort step) and advances: CONTINUE
// for a step done with more to come, DELIVERED when the object exists, RETRY (same step after
// a backoff), CONTINUE to the abort step before a drop.
sink::UploadEvent onResponse(S3Upload& upload, const S3Config& config,
                             const ferry_http_response& response, ferry_plugin_verdict& verdict);

} // namespace ferry::s3
