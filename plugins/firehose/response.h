// PutRecordBatch responses → the runner's verdict, by the sink kit's batch judge
// (ferry/sink/aws_batch.h). 200 with FailedPutCount 0: delivered; FailedPutCount > 0: the
// request is narrowed to the records whose RequestResponses entry carries an ErrorCode
// (PARTIAL, never the whole batch again). Errors by their AWS type: throttling and 5xx
// retried (throttled), a missing stream or refused credentials retried and reported
// unhealthy, 413 split, any other 4xx dropped.
#pragma once

#include <string>
#include <string_view>

#include "encoder.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_batch.h"

namespace ferry::firehose {

inline std::string errorType(const ferry_http_response& response) {
  return sink::awsErrorType(response);
}

// Judges one attempt of `request`; on a partial failure narrows it to the failed records.
// region is only for messages.
inline void judgeResponse(FirehoseRequest& request, const ferry_http_response& response,
                          ferry_plugin_verdict& verdict, std::string_view region) {
  sink::judgeBatchResponse(request, response, verdict, region);
}

} // namespace ferry::firehose
