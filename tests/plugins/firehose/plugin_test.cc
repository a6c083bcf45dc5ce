// The built firehose.so through its C ABI, as the runner drives it: init (limits, option
// errors), encode, an attempt refused while no AWS credentials exist and signed once they
// appear (picked up by the provider's background refresh), and a partial failure narrowing the
// request; the bytes it reports holding (ferry_on_request_bytes) follow its body.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aws_env.h"
#include "ferry/output/plugin_host.h"

namespace ferry::firehose {
namespace {

void ignoreLog(void*, uint32_t, const char*, size_t) {}
void ignoreCounter(void*, const char*, uint64_t) {}

using test::ScopedAwsEnvironment;

class FirehosePluginTest : public testing::Test {
protected:
  void SetUp() override {
    auto api = host_.load("firehose");
    ASSERT_TRUE(api.has_value()) << api.error();
    api_ = *api;
    host_api_ = {FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, nullptr, ignoreLog, ignoreCounter};
  }
  void TearDown() override {
    if (instance_ != nullptr) api_->destroy(instance_);
  }
  int init(const std::string& json, std::string* error_out = nullptr) {
    char error[512] = {0};
    const int rc =
        api_->init(&host_api_, json.data(), json.size(), &instance_, &limits_, error, sizeof error);
    if (error_out != nullptr) *error_out = error;
    return rc;
  }

  ScopedAwsEnvironment env_;
  output::PluginHost host_{FERRY_PLUGIN_DIR};
  const output::PluginApi* api_ = nullptr;
  ferry_host_api host_api_{};
  ferry_plugin_instance* instance_ = nullptr;
  ferry_plugin_limits limits_{};
};

TEST_F(FirehosePluginTest, InitSetsTheVendorLimits) {
  ASSERT_EQ(init(R"({"delivery_stream":"s","region":"eu-west-1","timeout":7000})"), 0);
  EXPECT_EQ(limits_.transport, static_cast<uint32_t>(FERRY_TRANSPORT_HTTP));
  EXPECT_EQ(limits_.max_records, 500u);
  EXPECT_LT(limits_.max_request_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(limits_.request_timeout_ms, 7000u);
  api_->destroy(instance_);
  instance_ = nullptr;
  // Aggregated: many log records per Firehose record, so many more offered per call.
  ASSERT_EQ(init(R"({"delivery_stream":"s","region":"eu-west-1","aggregate":true})"), 0);
  EXPECT_GT(limits_.max_records, 500u);
}

TEST_F(FirehosePluginTest, InitRefusesBadOptionsNamingThem) {
  std::string error;
  EXPECT_NE(init(R"({"delivery_stream":"s","region":"eu-west-1","endpoint":"ftp://x"})", &error),
            0);
  EXPECT_NE(error.find("endpoint"), std::string::npos) << error;
  EXPECT_NE(init(R"({"delivery_stream":"","region":"eu-west-1"})", &error), 0);
  EXPECT_NE(error.find("delivery_stream"), std::string::npos) << error;
}

TEST_F(FirehosePluginTest, WaitsForCredentialsThenSignsAndNarrowsOnPartialFailure) {
  ASSERT_EQ(
      init(R"({"delivery_stream":"orders","region":"eu-west-1","endpoint":"http://127.0.0.1:9"})"),
      0);
  const std::vector<std::string> lines = {"one", "two", "three"};
  std::vector<ferry_plugin_record> records;
  for (const auto& l : lines) {
    records.push_back({1'000'000'000, "t", 1, reinterpret_cast<const uint8_t*>(l.data()), l.size(),
                       FERRY_RECORD_LINE});
  }
  size_t consumed = 0, dropped = 0;
  ferry_plugin_request* request = nullptr;
  char error[256] = {0};
  ASSERT_EQ(api_->encode(instance_, records.data(), records.size(), &consumed, &dropped, &request,
                         error, sizeof error),
            0)
      << error;
  EXPECT_EQ(consumed, 3u);
  ASSERT_NE(request, nullptr);

  ferry_http_request http{};
  EXPECT_NE(api_->http_request(instance_, request, &http, error, sizeof error), 0);
  EXPECT_NE(std::string(error).find("credentials"), std::string::npos) << error;

  ::setenv("AWS_ACCESS_KEY_ID", "AKIDPLUGINTEST", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int rc = 1;
  while ((rc = api_->http_request(instance_, request, &http, error, sizeof error)) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(rc, 0) << error;
  EXPECT_STREQ(http.url, "http://127.0.0.1:9/");
  const std::vector<std::string> headers(http.headers, http.headers + http.header_count);
  EXPECT_NE(
      std::find(headers.begin(), headers.end(), "X-Amz-Target: Firehose_20150804.PutRecordBatch"),
      headers.end());
  bool signed_ok = false;
  for (const auto& h : headers) {
    if (h.starts_with("Authorization: AWS4-HMAC-SHA256 Credential=AKIDPLUGINTEST/"))
      signed_ok = true;
  }
  EXPECT_TRUE(signed_ok);
  // What the runner counts against buffer.max_bytes: the body, and no copy of the JSON lines.
  ASSERT_NE(api_->request_bytes, nullptr) << "firehose.so does not export ferry_on_request_bytes";
  const uint64_t held = api_->request_bytes(instance_, request);
  EXPECT_GE(held, http.body_len);
  EXPECT_LT(held, http.body_len + 256);

  const std::string partial =
      R"({"FailedPutCount":1,"RequestResponses":[{"RecordId":"a"},)"
      R"({"ErrorCode":"ServiceUnavailableException","ErrorMessage":"x"},{"RecordId":"c"}]})";
  ferry_http_response response{
      200, nullptr, 0, reinterpret_cast<const uint8_t*>(partial.data()), partial.size(), nullptr};
  ferry_plugin_verdict verdict{};
  api_->http_response(instance_, request, &response, &verdict);
  EXPECT_EQ(verdict.kind, static_cast<uint32_t>(FERRY_VERDICT_PARTIAL));
  EXPECT_EQ(verdict.records_delivered, 2u);

  ASSERT_EQ(api_->http_request(instance_, request, &http, error, sizeof error), 0) << error;
  const std::string body(reinterpret_cast<const char*>(http.body), http.body_len);
  EXPECT_EQ(body.find("\"Records\":[{\"Data\":\""), body.find("\"Records\""));
  EXPECT_EQ(std::count(body.begin(), body.end(), '{'), 2) << body; // the body and one record
  EXPECT_LT(api_->request_bytes(instance_, request), held) << "narrowed, it holds less";
  EXPECT_GE(api_->request_bytes(instance_, request), http.body_len);
  api_->request_free(instance_, request);
}

} // namespace
} // namespace ferry::firehose
