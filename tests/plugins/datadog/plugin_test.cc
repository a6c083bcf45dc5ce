// The built datadog.so through its C ABI, as the runner drives it: init (limits, option
// errors), encode, the HTTP request it describes, and the verdicts and counters it reports.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "ferry/codec/compress.h"
#include "ferry/output/plugin_host.h"

namespace ferry::datadog {
namespace {

struct HostRecorder {
  std::vector<std::string> logs;
  std::vector<std::pair<std::string, uint64_t>> counters;
};

void recordLog(void* ctx, uint32_t, const char* message, size_t len) {
  static_cast<HostRecorder*>(ctx)->logs.emplace_back(message, len);
}
void recordCounter(void* ctx, const char* name, uint64_t value) {
  static_cast<HostRecorder*>(ctx)->counters.emplace_back(name, value);
}

class DatadogPluginTest : public testing::Test {
protected:
  void SetUp() override {
    auto api = host_.load("datadog");
    ASSERT_TRUE(api.has_value()) << api.error();
    api_ = *api;
    host_api_ = {FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, &recorder_, recordLog,
                 recordCounter};
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

  output::PluginHost host_{FERRY_PLUGIN_DIR};
  const output::PluginApi* api_ = nullptr;
  HostRecorder recorder_;
  ferry_host_api host_api_{};
  ferry_plugin_instance* instance_ = nullptr;
  ferry_plugin_limits limits_{};
};

TEST_F(DatadogPluginTest, InitSetsTheVendorLimits) {
  ASSERT_EQ(init(R"({"api_key":"k","hostname":"h","timeout":7000})"), 0);
  EXPECT_EQ(limits_.transport, static_cast<uint32_t>(FERRY_TRANSPORT_HTTP));
  EXPECT_EQ(limits_.max_records, 1000u);
  EXPECT_LE(limits_.max_request_bytes, 5'000'000u);
  EXPECT_GT(limits_.max_request_bytes, 1'000'000u);
  EXPECT_EQ(limits_.max_concurrency, 64u);
  EXPECT_EQ(limits_.request_timeout_ms, 7000u);
}

TEST_F(DatadogPluginTest, InitRefusesBadOptionsNamingThem) {
  std::string error;
  EXPECT_NE(init(R"({"api_key":"k","site":"datadoghq.org"})", &error), 0);
  EXPECT_NE(error.find("site"), std::string::npos) << error;
  EXPECT_NE(init(R"({"api_key":"k","compression":"lz4"})", &error), 0);
  EXPECT_NE(error.find("compression"), std::string::npos) << error;
}

TEST_F(DatadogPluginTest, EncodesAndDescribesTheRequest) {
  ASSERT_EQ(init(R"({"api_key":"secret-key-1","url":"http://127.0.0.1:9/api/v2/logs",)"
                 R"("service":"web","source":"app","tags":"env:test","hostname":"h",)"
                 R"("compression":"zstd"})"),
            0);
  for (const auto& line : recorder_.logs) {
    EXPECT_EQ(line.find("secret-key-1"), std::string::npos) << "API key logged: " << line;
  }
  const std::string big(1'500'000, 'b');
  const std::vector<std::string> lines = {"first", big, "third"};
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
  EXPECT_EQ(dropped, 0u);
  ASSERT_NE(request, nullptr);
  ASSERT_EQ(recorder_.counters.size(), 1u);
  EXPECT_EQ(recorder_.counters[0], (std::pair<std::string, uint64_t>{"truncated", 1}));

  ferry_http_request http{};
  ASSERT_EQ(api_->http_request(instance_, request, &http, error, sizeof error), 0) << error;
  EXPECT_STREQ(http.method, "POST");
  EXPECT_STREQ(http.url, "http://127.0.0.1:9/api/v2/logs");
  std::vector<std::string> headers(http.headers, http.headers + http.header_count);
  EXPECT_NE(std::find(headers.begin(), headers.end(), "DD-API-KEY: secret-key-1"), headers.end());
  EXPECT_NE(std::find(headers.begin(), headers.end(), "Content-Encoding: zstd"), headers.end());
  EXPECT_NE(std::find(headers.begin(), headers.end(), "Content-Type: application/json"),
            headers.end());

  core::ByteBuffer plain;
  ASSERT_TRUE(codec::decompress(codec::Compression::kZstd,
                                {reinterpret_cast<const char*>(http.body), http.body_len}, plain,
                                10'000'000));
  rapidjson::Document doc;
  doc.Parse(plain.data(), plain.size());
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 3u);
  EXPECT_STREQ(doc[0]["service"].GetString(), "web");
  EXPECT_TRUE(doc[1]["ferry.truncated"].GetBool());
  EXPECT_STREQ(doc[2]["message"].GetString(), "third");

  const char* retry_after[] = {"Retry-After: 2"};
  ferry_http_response response{429, retry_after, 1, nullptr, 0, nullptr};
  ferry_plugin_verdict verdict{};
  api_->http_response(instance_, request, &response, &verdict);
  EXPECT_EQ(verdict.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_EQ(verdict.throttled, 1u);
  EXPECT_EQ(verdict.retry_after_ms, 2000u);
  response = {202, nullptr, 0, nullptr, 0, nullptr};
  verdict = {};
  api_->http_response(instance_, request, &response, &verdict);
  EXPECT_EQ(verdict.kind, static_cast<uint32_t>(FERRY_VERDICT_DELIVERED));
  api_->request_free(instance_, request);
}

// auto_hostname false (a converted Fluent Bit config without dd_hostname): no `hostname`.
TEST_F(DatadogPluginTest, WithoutAutoHostnameEntriesCarryNoHostname) {
  ASSERT_EQ(init(R"({"api_key":"k","auto_hostname":false,"compression":"none"})"), 0);
  const std::string line = "hello";
  ferry_plugin_record record{
      1'000'000'000,    "t", 1, reinterpret_cast<const uint8_t*>(line.data()), line.size(),
      FERRY_RECORD_LINE};
  size_t consumed = 0, dropped = 0;
  ferry_plugin_request* request = nullptr;
  char error[256] = {0};
  ASSERT_EQ(api_->encode(instance_, &record, 1, &consumed, &dropped, &request, error, sizeof error),
            0)
      << error;
  ferry_http_request http{};
  ASSERT_EQ(api_->http_request(instance_, request, &http, error, sizeof error), 0) << error;
  rapidjson::Document doc;
  doc.Parse(reinterpret_cast<const char*>(http.body), http.body_len);
  ASSERT_TRUE(doc.IsArray() && doc.Size() == 1);
  EXPECT_STREQ(doc[0]["message"].GetString(), "hello");
  EXPECT_FALSE(doc[0].HasMember("hostname"));
  api_->request_free(instance_, request);
  bool said = false;
  for (const auto& l : recorder_.logs)
    said = said || l.find("hostname none") != std::string::npos;
  EXPECT_TRUE(said) << "the start-up line should say no hostname is sent";
}

} // namespace
} // namespace ferry::datadog
