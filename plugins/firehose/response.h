// PutRecordBatch responses → the runner's verdict. 200 with FailedPutCount 0: delivered;
// FailedPutCount > 0: the request is narrowed to the records whose RequestResponses entry
// carries an ErrorCode (PARTIAL, never the whole batch again). Errors by their AWS type:
// throttling and 5xx retried (throttled), a missing stream or refused credentials retried
// and reported unhealthy, 413 split, any other 4xx dropped.
#pragma once

#include <string>
#include <string_view>

#include "encoder.h"
#include "ferry/plugin.h"

namespace ferry::firehose {

// The AWS error type of a failed call: "__type" (or "code") of the JSON body, else the
// x-amzn-ErrorType header, without a "namespace#" prefix or ":uri" suffix. Empty if none.
std::string errorType(const ferry_http_response& response);

// Judges one attempt of `request`; on a partial failure narrows it to the failed records.
// region is only for messages.
void judgeResponse(FirehoseRequest& request, const ferry_http_response& response,
                   ferry_plugin_verdict& verdict, std::string_view region);

} // namespace ferry::firehose
