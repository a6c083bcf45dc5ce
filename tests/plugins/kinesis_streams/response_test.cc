// PutRecords answers → verdicts (the sink kit's batch judge with Kinesis's names):
// FailedRecordCount with per-record ErrorCodes narrowed to the failed records,
// ProvisionedThroughputExceededException backed off (throttled), a missing stream, refused
// credentials and KMS errors retried unhealthy, validation answers dropped, 413 split.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kinesis_streams/encoder.h"

namespace ferry::kinesis {
namespace {

std::unique_ptr<KinesisRequest> makeRequest(size_t n) {
  auto req = std::make_unique<KinesisRequest>();
  req->stream = "orders";
  req->begin();
  for (size_t i = 0; i < n; ++i) {
    req->add("{\"i\":" + std::to_string(i) + "}\n", 1,
             ",\"PartitionKey\":\"pk-" + std::to_string(i) + "\"");
  }
  req->finish();
  return req;
}

ferry_plugin_verdict judge(KinesisRequest& req, int status, const std::string& body,
                           std::vector<std::string> header_lines = {}) {
  std::vector<const char*> headers;
  for (const auto& h : header_lines)
    headers.push_back(h.c_str());
  ferry_http_response r{};
  r.status = status;
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = reinterpret_cast<const uint8_t*>(body.data());
  r.body_len = body.size();
  r.error = status == 0 ? "Connection refused" : nullptr;
  ferry_plugin_verdict v{};
  sink::judgeBatchResponse(req, r, v, "eu-west-1");
  return v;
}

std::string awsError(std::string_view type, std::string_view message = "m") {
  return "{\"__type\":\"" + std::string(type) + "\",\"message\":\"" + std::string(message) + "\"}";
}

const char* kOk = R"({"SequenceNumber":"49590338271490256608559692538361571095921575989136588898",)"
                  R"("ShardId":"shardId-000000000000"})";

TEST(KinesisResponseTest, NoFailedRecordIsDelivered) {
  auto req = makeRequest(2);
  auto v = judge(*req, 200,
                 std::string(R"({"FailedRecordCount":0,"Records":[)") + kOk + "," + kOk +
                     R"(],"EncryptionType":"NONE"})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
}

TEST(KinesisResponseTest, FailedRecordsAreResentAloneWithTheirKeys) {
  auto req = makeRequest(4);
  auto v = judge(*req, 200,
                 std::string(R"({"FailedRecordCount":2,"Records":[)") + kOk +
                     R"(,{"ErrorCode":"ProvisionedThroughputExceededException",)"
                     R"("ErrorMessage":"Rate exceeded for shard shardId-000000000001"},)" +
                     kOk + R"(,{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_PARTIAL);
  EXPECT_EQ(v.records_delivered, 2u);
  EXPECT_EQ(v.throttled, 1u) << "ProvisionedThroughputExceededException backs off";
  const std::string m = v.message;
  EXPECT_NE(m.find("2 of 4 Kinesis records failed"), std::string::npos) << m;
  EXPECT_NE(m.find("ProvisionedThroughputExceededException"), std::string::npos) << m;
  ASSERT_EQ(req->records.size(), 2u);
  EXPECT_EQ(req->recordData(req->records[0]), "{\"i\":1}\n");
  EXPECT_EQ(req->recordData(req->records[1]), "{\"i\":3}\n");
  const std::string body(req->body.view());
  EXPECT_NE(body.find("\"pk-1\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"pk-3\""), std::string::npos) << body;
  EXPECT_EQ(body.find("\"pk-0\""), std::string::npos) << body;

  v = judge(*req, 200,
            std::string(R"({"FailedRecordCount":0,"Records":[)") + kOk + "," + kOk + "]}");
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
}

TEST(KinesisResponseTest, InternalFailuresAloneAreNotThrottled) {
  auto req = makeRequest(2);
  auto v = judge(*req, 200,
                 std::string(R"({"FailedRecordCount":1,"Records":[)") + kOk +
                     R"(,{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]})");
  EXPECT_EQ(v.kind, FERRY_VERDICT_PARTIAL);
  EXPECT_EQ(v.throttled, 0u);
  EXPECT_EQ(req->records.size(), 1u);
}

TEST(KinesisResponseTest, UnreadableOrInconsistentAnswersResendEverything) {
  for (const std::string& body :
       {std::string(""), std::string("{}"), std::string(R"({"FailedPutCount":0})"),
        std::string(R"({"FailedRecordCount":1,"Records":[)") + kOk + "]}",
        std::string(R"({"FailedRecordCount":1,"Records":[)") + kOk + "," + kOk + "]}"}) {
    auto req = makeRequest(2);
    auto v = judge(*req, 200, body);
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << body;
    EXPECT_EQ(req->records.size(), 2u) << body;
  }
}

TEST(KinesisResponseTest, ThroughputExceededIsBackedOff) {
  auto req = makeRequest(1);
  for (const char* type : {"ProvisionedThroughputExceededException", "LimitExceededException",
                           "KMSThrottlingException"}) {
    auto v = judge(*req, 400, awsError(type, "Rate exceeded"), {"Retry-After: 2"});
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << type;
    EXPECT_EQ(v.throttled, 1u) << type;
    EXPECT_EQ(v.unhealthy, 0u) << type;
    EXPECT_EQ(v.retry_after_ms, 2000u) << type;
  }
  auto v = judge(*req, 500, awsError("InternalFailure"));
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 0u);
}

TEST(KinesisResponseTest, MissingStreamCredentialsAndKmsAreRetriedUnhealthy) {
  auto req = makeRequest(1);
  auto v = judge(*req, 400, awsError("ResourceNotFoundException", "Stream orders not found"));
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 1u);
  std::string m = v.message;
  EXPECT_NE(m.find("stream 'orders' not found in region eu-west-1"), std::string::npos) << m;
  v = judge(*req, 400, awsError("AccessDeniedException"));
  EXPECT_EQ(v.unhealthy, 1u);
  m = v.message;
  EXPECT_NE(m.find("kinesis:PutRecords"), std::string::npos) << m;
  for (const char* type :
       {"KMSDisabledException", "KMSNotFoundException", "KMSAccessDeniedException",
        "KMSInvalidStateException", "KMSOptInRequired"}) {
    v = judge(*req, 400, awsError(type));
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << type;
    EXPECT_EQ(v.unhealthy, 1u) << type;
  }
}

TEST(KinesisResponseTest, ValidationAnswersAreDropped) {
  for (const char* type :
       {"ValidationException", "InvalidArgumentException", "SerializationException"}) {
    auto req = makeRequest(3);
    auto v = judge(*req, 400, awsError(type, "1 validation error detected"));
    EXPECT_EQ(v.kind, FERRY_VERDICT_DROP) << type;
    EXPECT_NE(std::string(v.message).find("validation error"), std::string::npos) << v.message;
  }
}

TEST(KinesisResponseTest, TooLargeIsSplit) {
  auto req = makeRequest(2);
  auto v = judge(*req, 413, awsError("InvalidArgumentException"));
  EXPECT_EQ(v.kind, FERRY_VERDICT_SPLIT);
}

} // namespace
} // namespace ferry::kinesis
