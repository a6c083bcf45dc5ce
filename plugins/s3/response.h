// S3 responses → the runner's verdict: the kit's status classes refined by S3's error codes.
// 2xx delivered; 5xx, SlowDown (throttled), request timeouts and transport failures retried
// (Retry-After honoured); 413 split; 401/403 and credential errors (AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken...) retried and reported
// unhealthy; NoSuchBucket and a wrong region retried, unhealthy, with a clear message;
// other 4xx dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/plugin.h"
#include "ferry/sink/aws_object.h"
#include "ferry/sink/http.h"

namespace ferry::s3 {

// Status, code, message and region of a failed answer: the kit's reading of an XML error
// (sink::awsXmlError; a body <Error> counts even with a 200, sink::hasXmlError).
using S3Error = sink::AwsXmlError;

// The kit's status class S3's error codes refine (an answer, or a 200 with an <Error> body).
sink::StatusClass classify(const S3Error& error);

// Fills the verdict for a failed attempt. `what` names the operation ("PutObject"),
// `bucket` goes into the message of NoSuchBucket.
void failureVerdict(sink::StatusClass cls, const S3Error& error,
                    const ferry_http_response& response, std::string_view what,
                    std::string_view bucket, ferry_plugin_verdict& verdict);

} // namespace ferry::s3
