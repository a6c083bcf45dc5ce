// One attempt of a PutRecordBatch request as the host sends it: POST <endpoint>, Host,
// Content-Type application/x-amz-json-1.1, X-Amz-Target, signed with SigV4 (service
// firehose) at the attempt's own time, so a retry an hour later still carries a fresh date
// (the sink kit's describeBatchAttempt).
#pragma once

#include "config.h"
#include "encoder.h"
#include "ferry/aws/credentials.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_batch.h"

namespace ferry::firehose {

// Fills request.headers (and out, pointing into request and config) for one attempt.
inline void describeAttempt(FirehoseRequest& request, const FirehoseConfig& config,
                            const aws::Credentials& credentials, aws::SystemTime now,
                            ferry_http_request& out) {
  sink::describeBatchAttempt(request, config.endpoint, config.url, config.region, credentials, now,
                             out);
}

} // namespace ferry::firehose
