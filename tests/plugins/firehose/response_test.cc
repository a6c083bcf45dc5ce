// PutRecordBatch responses → verdicts: delivered, partial failures narrowed to the failed
// records (aggregated records counting every log line they hold), throttling, missing stream
// and refused credentials retried (unhealthy), 413 split, other 400s dropped.
#include "firehose/response.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace ferry::firehose {
namespace {

// A request of `n` Firehose records; record i holds `lines[i]` log records (default 1).
std::unique_ptr<FirehoseRequest> makeRequest(std::vector<uint32_t> lines) {
  auto req = std::make_unique<FirehoseRequest>();
  req->stream = "orders";
  req->begin();
  for (size_t i = 0; i < lines.size(); ++i) {
    req->add("{\"i\":" + std::to_string(i) + "}\n", lines[i]);
  }
  req->finish();
  return req;
}

struct Response {
  int status = 200;
  std::string body;
  std::vector<std::string> header_lines;
  std::vector<const char*> headers;
  ferry_http_response view() {
    headers.clear();
    for (const auto& h : header_lines)
      headers.push_back(h.c_str());
    ferry_http_response r{};
    r.status = status;
    r.headers = headers.data();
    r.header_count = headers.size();
    r.body = reinterpret_cast<const uint8_t*>(body.data());
    r.body_len = body.size();
    r.error = status == 0 ? "Connection refused" : nullptr;
    return r;
  }
};

ferry_plugin_verdict judge(FirehoseRequest& req, int status, std::string body,
                           std::vector<std::string> headers = {}) {
  Response resp{status, std::move(body), std::move(headers), {}};
  ferry_plugin_verdict v{};
  const ferry_http_response r = resp.view();
  judgeResponse(req, r, v, "eu-west-1");
  return v;
}

std::string awsError(std::string_view type, std::string_view message = "m") {
  return "{\"__type\":\"" + std::string(type) + "\",\"message\":\"" + std::string(message) + "\"}";
}

TEST(FirehoseResponseTest, AllPutIsDelivered) {
  auto req = makeRequest({1, 1, 1});
  auto v = judge(*req, 200,
                 R"({"FailedPutCount":0,"Encrypted":false,"RequestResponses":[)"
                 R"({"RecordId":"a"},{"RecordId":"b"},{"RecordId":"c"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
  EXPECT_EQ(req->records.size(), 3u);
}

TEST(FirehoseResponseTest, PartialFailureResendsOnlyTheFailedRecords) {
  auto req = makeRequest({1, 1, 1, 1});
  auto v = judge(*req, 200,
                 R"({"FailedPutCount":2,"RequestResponses":[{"RecordId":"a"},)"
                 R"({"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},)"
                 R"({"RecordId":"c"},{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_PARTIAL);
  EXPECT_EQ(v.records_delivered, 2u);
  EXPECT_EQ(v.records_dropped, 0u);
  EXPECT_EQ(v.throttled, 1u);
  EXPECT_NE(std::string(v.message).find("ServiceUnavailableException"), std::string::npos)
      << v.message;
  ASSERT_EQ(req->records.size(), 2u);
  EXPECT_EQ(req->recordData(req->records[0]), "{\"i\":1}\n");
  EXPECT_EQ(req->recordData(req->records[1]), "{\"i\":3}\n");
  EXPECT_NE(req->body.view().find("eyJpIjoxfQo="), std::string::npos); // base64 of {"i":1}\n
  EXPECT_EQ(req->body.view().find("eyJpIjowfQo="), std::string::npos);

  // The next attempt: the rest goes through.
  v = judge(*req, 200,
            R"({"FailedPutCount":0,"RequestResponses":[{"RecordId":"b"},{"RecordId":"d"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
}

TEST(FirehoseResponseTest, PartialCountsEveryLineOfAnAggregatedRecord) {
  auto req = makeRequest({100, 250, 7});
  auto v =
      judge(*req, 200,
            R"({"FailedPutCount":1,"RequestResponses":[{"RecordId":"a"},)"
            R"({"ErrorCode":"ServiceUnavailableException","ErrorMessage":"s"},{"RecordId":"c"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_PARTIAL);
  EXPECT_EQ(v.records_delivered, 107u);
  EXPECT_EQ(req->logRecords(), 250u);
}

TEST(FirehoseResponseTest, EveryRecordFailedIsPartialWithNothingDelivered) {
  auto req = makeRequest({1, 1});
  auto v = judge(*req, 200,
                 R"({"FailedPutCount":2,"RequestResponses":[{"ErrorCode":"InternalFailure"},)"
                 R"({"ErrorCode":"InternalFailure"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_PARTIAL);
  EXPECT_EQ(v.records_delivered, 0u);
  EXPECT_EQ(v.throttled, 0u);
  EXPECT_EQ(req->records.size(), 2u);
}

TEST(FirehoseResponseTest, UnreadableOrInconsistentAnswersResendEverything) {
  for (const char* body :
       {"", "not json", "{}", R"({"FailedPutCount":"1"})",
        R"({"FailedPutCount":1,"RequestResponses":[{"RecordId":"a"}]})", // 1 entry for 2 records
        R"({"FailedPutCount":1,"RequestResponses":[{"RecordId":"a"},{"RecordId":"b"}]})"}) {
    auto req = makeRequest({1, 1});
    auto v = judge(*req, 200, body);
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << body;
    EXPECT_EQ(req->records.size(), 2u) << body;
  }
}

TEST(FirehoseResponseTest, ThrottlingIsRetriedAndThrottled) {
  auto req = makeRequest({1});
  auto v = judge(*req, 400, awsError("ThrottlingException", "Rate exceeded"));
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.throttled, 1u);
  EXPECT_EQ(v.unhealthy, 0u);
  v = judge(*req, 503, awsError("ServiceUnavailableException"));
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.throttled, 1u);
  v = judge(*req, 429, "");
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.throttled, 1u);
  v = judge(*req, 400, "", {"x-amzn-ErrorType: LimitExceededException:http://internal/"});
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.throttled, 1u);
}

TEST(FirehoseResponseTest, ServerAndNetworkErrorsAreRetried) {
  auto req = makeRequest({1});
  for (int status : {0, 500, 502, 504}) {
    auto v = judge(*req, status, awsError("InternalFailure"));
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << status;
    EXPECT_EQ(v.unhealthy, 0u) << status;
  }
  auto v = judge(*req, 0, "");
  EXPECT_NE(std::string(v.message).find("Connection refused"), std::string::npos);
}

TEST(FirehoseResponseTest, MissingStreamIsRetriedUnhealthyNamingIt) {
  auto req = makeRequest({1});
  auto v = judge(*req, 400,
                 awsError("com.amazonaws.firehose#ResourceNotFoundException",
                          "Firehose orders under account 1 not found."));
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 1u);
  const std::string m = v.message;
  EXPECT_NE(m.find("'orders'"), std::string::npos) << m;
  EXPECT_NE(m.find("eu-west-1"), std::string::npos) << m;
  EXPECT_NE(m.find("ResourceNotFoundException"), std::string::npos) << m;
}

TEST(FirehoseResponseTest, RefusedCredentialsAreRetriedUnhealthy) {
  auto req = makeRequest({1});
  for (const char* type : {"UnrecognizedClientException", "AccessDeniedException",
                           "InvalidSignatureException", "ExpiredTokenException"}) {
    auto v = judge(*req, 400, awsError(type));
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << type;
    EXPECT_EQ(v.unhealthy, 1u) << type;
    EXPECT_NE(std::string(v.message).find(type), std::string::npos) << v.message;
  }
  auto v = judge(*req, 403, "");
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 1u);
  // The type from the header when the body has none.
  v = judge(*req, 400, "",
            {"Content-Type: x", "X-Amzn-ErrorType: AccessDeniedException:http://x/"});
  EXPECT_EQ(v.unhealthy, 1u);
}

TEST(FirehoseResponseTest, TooLargeIsSplit) {
  auto req = makeRequest({1, 1});
  EXPECT_EQ(judge(*req, 413, "").kind, FERRY_VERDICT_SPLIT);
}

TEST(FirehoseResponseTest, OtherClientErrorsAreDropped) {
  auto req = makeRequest({1});
  for (const char* type :
       {"ValidationException", "InvalidArgumentException", "SerializationException"}) {
    auto v = judge(*req, 400, awsError(type, "1 validation error detected"));
    EXPECT_EQ(v.kind, FERRY_VERDICT_DROP) << type;
    EXPECT_NE(std::string(v.message).find("validation error"), std::string::npos) << v.message;
  }
  EXPECT_EQ(judge(*req, 404, "").kind, FERRY_VERDICT_DROP);
}

TEST(FirehoseResponseTest, ErrorTypeForms) {
  Response r{400, awsError("a.b#ThrottlingException"), {}, {}};
  EXPECT_EQ(errorType(r.view()), "ThrottlingException");
  r = {400, "{\"code\":\"X\"}", {}, {}};
  EXPECT_EQ(errorType(r.view()), "X");
  r = {400, "<html>", {"x-amzn-errortype: Y:http://z"}, {}};
  EXPECT_EQ(errorType(r.view()), "Y");
  r = {400, "", {}, {}};
  EXPECT_EQ(errorType(r.view()), "");
}

} // namespace
} // namespace ferry::firehose
