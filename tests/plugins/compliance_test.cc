// The compliance suite every sink passes (stdout, file, null, datadog, firehose, s3,
// kinesis_streams, cloudwatch_logs, and every sink added later: a plugin in the plugin
// directory without a case here fails).
// Each sink is loaded through the ABI as the runner loads it, and held to the same rules:
//  - its option table: names, docs, defaults within their bounds, enums, secrets marked,
//    and its own option check (ferry_on_check) refusing what the table refuses;
//  - its limits, and a request encoded from records;
//  - HTTP sinks, against a local server this test starts: the verdict for 2xx, 400, 401,
//    403, 408, 413, 429 and 5xx, for a timeout and a reset connection, Retry-After (seconds
//    and HTTP-date) honoured, and no secret (API key, AWS secret key, session token) in any
//    log line or verdict message, even when the server echoes the request back;
//  - local sinks: a delivered request.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <ctime>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "aws_env.h"
#include "ferry/net/http_client.h"
#include "ferry/output/plugin_host.h"
#include "ferry/sink/options.h"
#include "http_test_server.h"
#include "test_support.h"

namespace ferry::output {
namespace {

constexpr const char* kDatadogKey = "compliance-dd-api-key-0123456789";
constexpr const char* kAwsKeyId = "AKIDCOMPLIANCE0001";
constexpr const char* kAwsSecret = "compliance-aws-secret-key-0123456789";
constexpr const char* kAwsToken = "compliance-aws-session-token-abcdef";
const std::vector<std::string> kSecrets = {kDatadogKey, kAwsSecret, kAwsToken};

// What a sink needs to run here: its options, and for HTTP sinks the body of a success.
struct SinkCase {
  const char* type;
  uint32_t transport;
  std::string (*options)(const std::string& server_url, const std::string& dir);
  const char* success_body = "";
};

const SinkCase kCases[] = {
    {"stdout", FERRY_TRANSPORT_LOCAL,
     [](const std::string&, const std::string&) { return std::string("{}"); }},
    {"file", FERRY_TRANSPORT_LOCAL,
     [](const std::string&, const std::string& dir) {
       return R"({"path":")" + dir + R"(/out.log"})";
     }},
    {"null", FERRY_TRANSPORT_LOCAL,
     [](const std::string&, const std::string&) { return std::string("{}"); }},
    {"datadog", FERRY_TRANSPORT_HTTP,
     [](const std::string& url, const std::string&) {
       return std::string(R"({"api_key":")") + kDatadogKey + R"(","url":")" + url +
              R"(/api/v2/logs","hostname":"compliance"})";
     },
     "{}"},
    {"firehose", FERRY_TRANSPORT_HTTP,
     [](const std::string& url, const std::string&) {
       return R"({"delivery_stream":"compliance","region":"eu-west-1","endpoint":")" + url +
              R"("})";
     },
     R"({"FailedPutCount":0,"RequestResponses":[{"RecordId":"r1"}]})"},
    {"kinesis_streams", FERRY_TRANSPORT_HTTP,
     [](const std::string& url, const std::string&) {
       return R"({"stream":"compliance","region":"eu-west-1","endpoint":")" + url + R"("})";
     },
     R"({"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-0"}]})"},
    {"cloudwatch_logs", FERRY_TRANSPORT_HTTP,
     [](const std::string& url, const std::string&) {
       return R"({"region":"eu-west-1","log_group_name":"compliance","log_stream_prefix":"c-",)"
              R"("endpoint":")" +
              url + R"("})";
     },
     R"({"nextSequenceToken":"1"})"},
    {"s3", FERRY_TRANSPORT_HTTP,
     [](const std::string& url, const std::string&) {
       return R"({"bucket":"compliance-logs","region":"eu-west-1","endpoint":")" + url + R"("})";
     }},
};

// gtest names a case by its type, not its bytes.
void PrintTo(const SinkCase& c, std::ostream* os) {
  *os << c.type;
}

// Everything the plugin says through the host: kept to look for secrets.
struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
};
void captureLog(void* ctx, uint32_t, const char* message, size_t len) {
  auto* c = static_cast<Captured*>(ctx);
  std::lock_guard lock(c->mu);
  c->lines.emplace_back(message, len);
}
void ignoreCounter(void*, const char*, uint64_t) {}

// The server's answer for one status; every error echoes the request it got (headers, then
// body), as a misbehaving proxy might, so a sink that quotes a body must mask it.
struct Answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;
  bool reset = false;
};

class SinkComplianceTest : public testing::TestWithParam<SinkCase> {
protected:
  void SetUp() override {
    ::setenv("AWS_ACCESS_KEY_ID", kAwsKeyId, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", kAwsSecret, 1);
    ::setenv("AWS_SESSION_TOKEN", kAwsToken, 1);
    auto api = host_.load(GetParam().type);
    ASSERT_TRUE(api.has_value()) << api.error();
    api_ = *api;
    host_api_ = {FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, &captured_, captureLog,
                 ignoreCounter};
    options_ = GetParam().options(server_.url(), dir_.path().string());
  }
  void TearDown() override {
    if (instance_ != nullptr) api_->destroy(instance_);
  }

  void init() {
    char error[512] = {0};
    ASSERT_EQ(api_->init(&host_api_, options_.data(), options_.size(), &instance_, &limits_, error,
                         sizeof error),
              0)
        << error;
  }

  // A request of two records, freed by the caller.
  ferry_plugin_request* encode() {
    const std::string a = test::packMap({{"log", "hello compliance"}, {"level", "info"}});
    const std::string b = test::packMap({{"log", "second record"}});
    const ferry_plugin_record records[] = {
        {1'700'000'000'000'000'000, "app.compliance", 14,
         reinterpret_cast<const uint8_t*>(a.data()), a.size(), FERRY_RECORD_MSGPACK_MAP},
        {1'700'000'000'500'000'000, "app.compliance", 14,
         reinterpret_cast<const uint8_t*>(b.data()), b.size(), FERRY_RECORD_MSGPACK_MAP},
    };
    size_t consumed = 0, dropped = 0;
    ferry_plugin_request* request = nullptr;
    char error[512] = {0};
    EXPECT_EQ(
        api_->encode(instance_, records, 2, &consumed, &dropped, &request, error, sizeof error), 0)
        << error;
    EXPECT_GE(consumed, 1u);
    EXPECT_EQ(dropped, 0u);
    return request;
  }

  // One request through the sink against the server answering `answer`, every step (an S3
  // multipart upload has several) until a verdict other than CONTINUE.
  ferry_plugin_verdict attempt(const Answer& answer) {
    server_.setHandler(
        [answer, success = std::string(GetParam().success_body)](const test::HttpTestRequest& req) {
          test::HttpTestResponse resp;
          resp.status = answer.status;
          resp.headers = answer.headers;
          resp.delay_ms = answer.delay_ms;
          resp.reset = answer.reset;
          if (answer.status >= 200 && answer.status < 300) {
            resp.body = success;
            resp.headers.emplace_back("ETag", "\"0123\"");
          } else {
            for (const auto& [k, v] : req.headers)
              resp.body += k + ": " + v + "\n";
            resp.body += req.body.substr(0, 256);
          }
          return resp;
        });
    ferry_plugin_request* request = encode();
    ferry_plugin_verdict verdict{};
    for (int step = 0; request != nullptr && step < 8; ++step) {
      ferry_http_request out{};
      char error[512] = {0};
      const int rc = api_->http_request(instance_, request, &out, error, sizeof error);
      EXPECT_EQ(rc, 0) << error;
      if (rc != 0) break;
      errors_.emplace_back(error);
      net::HttpRequest http;
      http.method = out.method;
      http.url = out.url;
      http.headers.assign(out.headers, out.headers + out.header_count);
      http.body = out.body;
      http.body_len = out.body_len;
      http.timeout_ms = 1000; // the host's timeout: a delayed answer ends as status 0
      const net::HttpResponse got = net::httpFetch(http);
      std::vector<const char*> lines;
      for (const auto& h : got.headers)
        lines.push_back(h.c_str());
      const ferry_http_response response{
          got.status,      lines.data(),
          lines.size(),    reinterpret_cast<const uint8_t*>(got.body.data()),
          got.body.size(), got.status == 0 ? got.error.c_str() : nullptr};
      verdict = ferry_plugin_verdict{};
      api_->http_response(instance_, request, &response, &verdict);
      messages_.emplace_back(verdict.message);
      if (verdict.kind != FERRY_VERDICT_CONTINUE) break;
    }
    if (request != nullptr) api_->request_free(instance_, request);
    return verdict;
  }

  bool isHttp() const { return GetParam().transport == FERRY_TRANSPORT_HTTP; }

  test::ScopedAwsEnvironment aws_env_;
  test::TempDir dir_;
  test::HttpTestServer server_{nullptr};
  PluginHost host_{FERRY_PLUGIN_DIR};
  const PluginApi* api_ = nullptr;
  Captured captured_;
  ferry_host_api host_api_{};
  std::string options_;
  ferry_plugin_instance* instance_ = nullptr;
  ferry_plugin_limits limits_{};
  std::vector<std::string> messages_, errors_;
};

TEST_P(SinkComplianceTest, DescribesItselfAndEveryOption) {
  const ferry_plugin_descriptor& d = *api_->descriptor;
  EXPECT_STREQ(d.type_name, GetParam().type);
  EXPECT_EQ(d.abi_major, static_cast<uint32_t>(FERRY_PLUGIN_ABI_MAJOR));
  EXPECT_LE(d.abi_minor, static_cast<uint32_t>(FERRY_PLUGIN_ABI_MINOR));
  ASSERT_NE(d.description, nullptr);
  EXPECT_GT(std::string(d.description).size(), 10u);
  ASSERT_TRUE(d.option_count == 0 || d.options != nullptr);
  const std::regex name_re("[a-z][a-z0-9_]*");
  std::set<std::string> names;
  for (size_t i = 0; i < d.option_count; ++i) {
    const ferry_plugin_option& o = d.options[i];
    ASSERT_NE(o.name, nullptr);
    const std::string name = o.name;
    EXPECT_TRUE(std::regex_match(name, name_re)) << name;
    EXPECT_TRUE(names.insert(name).second) << "declared twice: " << name;
    ASSERT_NE(o.doc, nullptr) << name;
    const std::string doc = o.doc;
    EXPECT_GT(doc.size(), 10u) << name << " is not documented";
    EXPECT_TRUE(doc.ends_with(".") || doc.ends_with(".)")) << name << ": one sentence: " << doc;
    EXPECT_LE(o.type, static_cast<uint32_t>(FERRY_OPTION_STRING_MAP)) << name;
    if (o.required) {
      EXPECT_EQ(o.default_value, nullptr) << name << ": required with a default";
    }
    if (o.secret || config::isSecretKey(name)) {
      EXPECT_TRUE(o.secret) << name << " carries a secret: mark it";
      EXPECT_EQ(o.type, static_cast<uint32_t>(FERRY_OPTION_STRING)) << name;
      EXPECT_EQ(o.default_value, nullptr) << name << ": a secret has no default";
    }
    switch (o.type) {
    case FERRY_OPTION_INT:
    case FERRY_OPTION_SIZE:
    case FERRY_OPTION_DURATION: {
      EXPECT_TRUE(sink::isBounded(o)) << name << ": a number needs bounds";
      auto n = sink::numericDefault(o);
      EXPECT_TRUE(o.required || n.has_value()) << (n ? "" : n.error());
      break;
    }
    case FERRY_OPTION_ENUM: {
      ASSERT_NE(o.enum_values, nullptr) << name;
      const std::string choices = std::string("|") + o.enum_values + "|";
      if (o.default_value != nullptr) {
        EXPECT_NE(choices.find(std::string("|") + o.default_value + "|"), std::string::npos)
            << name << ": default '" << o.default_value << "' is not a choice";
      }
      break;
    }
    case FERRY_OPTION_BOOL:
      if (o.default_value != nullptr) {
        EXPECT_TRUE(std::string(o.default_value) == "true" ||
                    std::string(o.default_value) == "false")
            << name;
      }
      break;
    default:
      EXPECT_EQ(o.enum_values, nullptr) << name << ": choices on a non-enum";
      break;
    }
  }
}

// The plugin's own check (what `ferry validate` asks) refuses what its table refuses, naming
// the option: a missing required option, a number past its bounds.
TEST_P(SinkComplianceTest, ItsOptionCheckEnforcesItsTable) {
  ASSERT_NE(api_->check, nullptr) << "every sink exports ferry_on_check";
  char error[512] = {0};
  EXPECT_EQ(api_->check(options_.data(), options_.size(), error, sizeof error), 0) << error;
  const ferry_plugin_descriptor& d = *api_->descriptor;
  for (size_t i = 0; i < d.option_count; ++i) {
    const ferry_plugin_option& o = d.options[i];
    rapidjson::Document doc;
    doc.Parse(options_.c_str());
    ASSERT_TRUE(doc.IsObject());
    if (o.required) {
      doc.RemoveMember(o.name);
    } else if (sink::isBounded(o) && o.max_value < INT64_MAX) {
      doc.RemoveMember(o.name);
      doc.AddMember(rapidjson::Value(o.name, doc.GetAllocator()), rapidjson::Value(o.max_value + 1),
                    doc.GetAllocator());
    } else {
      continue;
    }
    const std::string json = [&] {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      doc.Accept(w);
      return std::string(buf.GetString(), buf.GetSize());
    }();
    error[0] = '\0';
    EXPECT_NE(api_->check(json.data(), json.size(), error, sizeof error), 0) << json;
    EXPECT_EQ(std::string(error).rfind(std::string(o.name) + ":", 0), 0u)
        << "the error names " << o.name << ": " << error;
  }
}

TEST_P(SinkComplianceTest, StatesItsLimitsAndEncodes) {
  init();
  EXPECT_EQ(limits_.transport, GetParam().transport);
  EXPECT_LE(limits_.max_concurrency, 1024u);
  EXPECT_GT(limits_.max_records, 0u) << "a sink knows how many records a request may hold";
  EXPECT_GT(limits_.max_request_bytes, 0u) << "and how many bytes";
  if (const ferry_plugin_option* t = sink::findPluginOption(*api_->descriptor, "timeout")) {
    EXPECT_EQ(limits_.request_timeout_ms, static_cast<uint64_t>(*sink::numericDefault(*t)))
        << "the timeout option is the host's request timeout";
  }
  ferry_plugin_request* request = encode();
  ASSERT_NE(request, nullptr);
  if (isHttp()) {
    ASSERT_NE(api_->request_bytes, nullptr);
    EXPECT_GT(api_->request_bytes(instance_, request), 0u) << "an encoded body is counted";
  } else {
    ferry_plugin_verdict v{};
    api_->deliver(instance_, request, &v);
    EXPECT_EQ(v.kind, static_cast<uint32_t>(FERRY_VERDICT_DELIVERED)) << v.message;
  }
  api_->request_free(instance_, request);
}

TEST_P(SinkComplianceTest, JudgesEveryStatusAsTheSpecSays) {
  if (!isHttp()) GTEST_SKIP() << "a local sink delivers itself";
  init();
  struct Row {
    int status;
    uint32_t kind;
    bool unhealthy, throttled;
  };
  const Row rows[] = {
      {200, FERRY_VERDICT_DELIVERED, false, false}, {400, FERRY_VERDICT_DROP, false, false},
      {401, FERRY_VERDICT_RETRY, true, false},      {403, FERRY_VERDICT_RETRY, true, false},
      {408, FERRY_VERDICT_RETRY, false, false},     {413, FERRY_VERDICT_SPLIT, false, false},
      {429, FERRY_VERDICT_RETRY, false, true},      {500, FERRY_VERDICT_RETRY, false, false},
      {502, FERRY_VERDICT_RETRY, false, false},     {503, FERRY_VERDICT_RETRY, false, false},
  };
  for (const Row& row : rows) {
    const ferry_plugin_verdict v = attempt({.status = row.status});
    EXPECT_EQ(v.kind, row.kind) << "HTTP " << row.status << ": " << v.message;
    EXPECT_EQ(v.unhealthy != 0, row.unhealthy) << "HTTP " << row.status << ": " << v.message;
    // 429 slows the output down; a 5xx may too (S3's 503 SlowDown), nothing else does.
    if (row.status == 429 || row.status < 500) {
      EXPECT_EQ(v.throttled != 0, row.throttled) << "HTTP " << row.status << ": " << v.message;
    }
    if (row.kind != FERRY_VERDICT_DELIVERED) {
      EXPECT_GT(std::string(v.message).size(), 5u) << "HTTP " << row.status << " says why";
    }
  }
}

TEST_P(SinkComplianceTest, RetriesTimeoutsAndResetConnections) {
  if (!isHttp()) GTEST_SKIP() << "a local sink delivers itself";
  init();
  const ferry_plugin_verdict timeout = attempt({.status = 200, .delay_ms = 2000});
  EXPECT_EQ(timeout.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY)) << timeout.message;
  EXPECT_EQ(timeout.unhealthy, 0u) << timeout.message;
  const ferry_plugin_verdict reset = attempt({.status = 200, .reset = true});
  EXPECT_EQ(reset.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY)) << reset.message;
  EXPECT_EQ(reset.unhealthy, 0u) << reset.message;
  EXPECT_EQ(attempt({.status = 200}).kind, static_cast<uint32_t>(FERRY_VERDICT_DELIVERED))
      << "and delivers once the server answers again";
}

TEST_P(SinkComplianceTest, HonoursRetryAfter) {
  if (!isHttp()) GTEST_SKIP() << "a local sink delivers itself";
  init();
  const ferry_plugin_verdict seconds = attempt({.status = 429, .headers = {{"Retry-After", "7"}}});
  EXPECT_EQ(seconds.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_EQ(seconds.retry_after_ms, 7000u) << seconds.message;

  // An HTTP-date 30 s ahead; whole seconds, so between 29 and 30 s from now.
  const std::time_t at = std::time(nullptr) + 30;
  std::tm tm{};
  gmtime_r(&at, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  const ferry_plugin_verdict dated = attempt({.status = 503, .headers = {{"Retry-After", date}}});
  EXPECT_EQ(dated.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_GE(dated.retry_after_ms, 28'000u) << date;
  EXPECT_LE(dated.retry_after_ms, 30'000u) << date;

  const ferry_plugin_verdict none = attempt({.status = 500});
  EXPECT_EQ(none.retry_after_ms, 0u) << "no header, no wait beyond the backoff";
}

TEST_P(SinkComplianceTest, SecretsNeverReachLogsOrVerdicts) {
  init();
  if (isHttp()) {
    for (int status : {200, 400, 401, 403, 413, 429, 500, 503})
      attempt({.status = status});
    attempt({.status = 200, .reset = true});
    // The echo must have carried what the sink sends, or this test proves nothing.
    bool echoed_credentials = false;
    for (const auto& r : server_.requests()) {
      echoed_credentials |= r.header("DD-API-KEY") == std::string(kDatadogKey) ||
                            r.header("X-Amz-Security-Token") == std::string(kAwsToken);
    }
    EXPECT_TRUE(echoed_credentials) << "the sink sent no credential to the server";
  } else {
    ferry_plugin_request* request = encode();
    ferry_plugin_verdict v{};
    api_->deliver(instance_, request, &v);
    messages_.emplace_back(v.message);
    api_->request_free(instance_, request);
  }
  api_->destroy(instance_); // its last words count too
  instance_ = nullptr;
  std::vector<std::string> said = messages_;
  said.insert(said.end(), errors_.begin(), errors_.end());
  {
    std::lock_guard lock(captured_.mu);
    said.insert(said.end(), captured_.lines.begin(), captured_.lines.end());
  }
  for (const auto& line : said) {
    for (const auto& secret : kSecrets) {
      EXPECT_EQ(line.find(secret), std::string::npos) << "a secret leaked: " << line;
      EXPECT_EQ(line.find(secret.substr(0, 16)), std::string::npos) << "half a secret: " << line;
    }
  }
}

std::string caseName(const testing::TestParamInfo<SinkCase>& info) {
  return info.param.type;
}

INSTANTIATE_TEST_SUITE_P(Sinks, SinkComplianceTest, testing::ValuesIn(kCases), caseName);

// A new sink joins the suite: every plugin built into the plugin directory has a case.
TEST(SinkComplianceCoverageTest, EverySinkInThePluginDirectoryHasACase) {
  PluginHost host(FERRY_PLUGIN_DIR);
  std::set<std::string> covered;
  for (const auto& c : kCases)
    covered.insert(c.type);
  const auto types = host.availableTypes();
  EXPECT_GE(types.size(), 6u);
  for (const auto& type : types) {
    EXPECT_TRUE(covered.contains(type)) << type << " has no compliance case in " << __FILE__;
  }
}

} // namespace
} // namespace ferry::output
