// The kit's AWS JSON sinks: where they send (region, endpoint, user agent, STS endpoint and
// timeout from the rows a table declares, errors naming the option), tags from a map option,
// the limits of one call (items, bytes with overheads, time span), one state per record, and
// the sink base: each attempt signed for the step (target, body, extra headers), no
// credentials an error, and a request chaining too many CONTINUE steps retried.
#include "ferry/sink/aws_json_sink.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "sink_test_host.h"

namespace ferry::sink {
namespace {

const ferry_plugin_option kFull[] = {
    stringOption("region", "r", true),
    stringOption("endpoint", "e"),
    stringOption("extra_user_agent", "u"),
    stringOption("sts_endpoint", "s"),
    {.name = "tags", .type = FERRY_OPTION_STRING_MAP, .doc = "t"},
    timeoutOption("30s", 100, 600'000, "t"),
};
const ferry_plugin_descriptor kFullDescriptor = {.abi_major = FERRY_PLUGIN_ABI_MAJOR,
                                                 .abi_minor = FERRY_PLUGIN_ABI_MINOR,
                                                 .type_name = "full",
                                                 .description = "d",
                                                 .options = kFull,
                                                 .option_count = std::size(kFull)};
// Without the optional rows: they are not read.
const ferry_plugin_option kPlain[] = {stringOption("region", "r", true),
                                      stringOption("endpoint", "e"),
                                      timeoutOption("30s", 100, 600'000, "t")};
const ferry_plugin_descriptor kPlainDescriptor = {.abi_major = FERRY_PLUGIN_ABI_MAJOR,
                                                  .abi_minor = FERRY_PLUGIN_ABI_MINOR,
                                                  .type_name = "plain",
                                                  .description = "d",
                                                  .options = kPlain,
                                                  .option_count = std::size(kPlain)};

std::expected<AwsService, std::string> service(const std::string& json,
                                               const ferry_plugin_descriptor& d = kFullDescriptor) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseAwsService(PluginOptions(doc, d), "logs");
}

TEST(AwsJsonSinkTest, ServiceFromTheDeclaredRows) {
  auto s = service(R"({"region":" eu-west-1 ","extra_user_agent":" app/1 ","timeout":5000,
                       "sts_endpoint":"http://127.0.0.1:9/"})");
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->region, "eu-west-1");
  EXPECT_EQ(s->url, "https://logs.eu-west-1.amazonaws.com/");
  EXPECT_EQ(s->user_agent, "ferry app/1");
  EXPECT_EQ(s->sts_endpoint, "http://127.0.0.1:9/");
  EXPECT_EQ(s->timeout_ms, 5000u);

  auto plain = service(R"({"region":"cn-north-1","endpoint":"127.0.0.1:4566"})", kPlainDescriptor);
  ASSERT_TRUE(plain.has_value()) << plain.error();
  EXPECT_EQ(plain->url, "https://127.0.0.1:4566/");
  EXPECT_EQ(plain->user_agent, "ferry");
  EXPECT_EQ(plain->timeout_ms, 30'000u);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"region":"EU WEST"})", "region: invalid"},
      {R"({"region":"eu-west-1","endpoint":"ftp://x"})", "endpoint"},
      {R"({"region":"eu-west-1","extra_user_agent":"a\nb"})", "extra_user_agent: "},
      {R"({"region":"eu-west-1","sts_endpoint":"ftp://x"})", "sts_endpoint"},
  };
  for (const auto& [json, prefix] : bad) {
    auto e = service(json);
    ASSERT_FALSE(e.has_value()) << json;
    EXPECT_EQ(e.error().rfind(prefix, 0), 0u) << e.error();
  }
}

TEST(AwsJsonSinkTest, TagsInOrderAsJson) {
  rapidjson::Document doc;
  doc.Parse(R"({"region":"eu-west-1","tags":{"team":"a\"b","n":3,"env":"prod"}})");
  const AwsTags tags = awsTags(PluginOptions(doc, kFullDescriptor), "tags");
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[1], (std::pair<std::string, std::string>{"n", ""})); // not a string
  EXPECT_EQ(awsTagsJson(tags), R"({"team":"a\"b","n":"","env":"prod"})");
  EXPECT_EQ(awsTagsJson({}), "{}");
  rapidjson::Document none;
  none.Parse(R"({"region":"eu-west-1"})");
  EXPECT_TRUE(awsTags(PluginOptions(none, kFullDescriptor), "tags").empty());
}

TEST(AwsJsonSinkTest, CallBudgetCountsItemsBytesAndSpan) {
  AwsCallBudget items({.max_items = 2, .max_bytes = 1000, .item_overhead = 0});
  EXPECT_TRUE(items.add(10));
  EXPECT_TRUE(items.add(10));
  EXPECT_FALSE(items.add(10));
  EXPECT_EQ(items.items(), 2u);

  // Bytes with the overhead of each item; the first item always fits.
  AwsCallBudget bytes({.max_items = 100, .max_bytes = 100, .item_overhead = 26});
  EXPECT_TRUE(bytes.add(200));
  EXPECT_EQ(bytes.bytes(), 226u);
  EXPECT_FALSE(bytes.add(0));
  AwsCallBudget exact({.max_items = 100, .max_bytes = 100, .item_overhead = 26});
  EXPECT_TRUE(exact.add(24));
  EXPECT_TRUE(exact.add(24)); // 50 + 50: exactly the limit
  EXPECT_FALSE(exact.add(0));

  // The span of the times, either way from the first.
  AwsCallBudget span({.max_items = 100, .max_bytes = 1 << 20, .max_span_ms = 1000});
  EXPECT_TRUE(span.add(1, 5000));
  EXPECT_TRUE(span.add(1, 4000));
  EXPECT_TRUE(span.add(1, 5000));
  EXPECT_FALSE(span.add(1, 5001));
  EXPECT_FALSE(span.add(1, 3999));
  EXPECT_EQ(span.items(), 3u);
}

TEST(AwsJsonSinkTest, OneStatePerRecord) {
  AwsJsonRequest r;
  EXPECT_EQ(r.consume(true), 0u);
  EXPECT_EQ(r.consume(false), 1u);
  EXPECT_EQ(r.consume(true), 2u);
  ferry_plugin_verdict v{};
  r.resolve(0, true, v);
  r.resolve(2, false, v);
  EXPECT_EQ(v.records_delivered, 1u);
  EXPECT_EQ(v.records_dropped, 1u);
  std::vector<uint8_t> out(3);
  ASSERT_TRUE(r.recordStates(out));
  EXPECT_EQ(out, (std::vector<uint8_t>{FERRY_RECORD_DELIVERED, FERRY_RECORD_DROPPED,
                                       FERRY_RECORD_DROPPED}));
  std::vector<uint8_t> wrong(2);
  EXPECT_FALSE(r.recordStates(wrong));
}

using FakeHost = test::RecordingHost;

aws::CredentialsProviderPtr credentials(bool ok = true) {
  return test::staticCredentials(ok);
}

// A sink of two steps: "Create" builds its own body, "Put" sends the request's; every answer
// is CONTINUE unless the status says 200 (delivered).
class TestSink : public AwsJsonSink {
public:
  using AwsJsonSink::AwsJsonSink;
  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record>, size_t&,
                                                     size_t&) override {
    return std::unexpected("not used");
  }
  bool create = true;
  std::string put_body = R"({"put":1})";

private:
  AwsJsonStep call(AwsJsonRequest&) override {
    AwsJsonStep step{.target = create ? "Svc.Create" : "Svc.Put", .body = put_body};
    if (create) step.owned = R"({"create":1})";
    step.headers = {{"x-extra", "1"}};
    return step;
  }
  void judge(AwsJsonRequest&, const ferry_http_response& r, ferry_plugin_verdict& v) override {
    v.kind = r.status == 200 ? FERRY_VERDICT_DELIVERED : FERRY_VERDICT_CONTINUE;
    countNonZero({{"answers", 1}, {"never", 0}});
  }
};

AwsService localService() {
  auto s =
      service(R"({"region":"eu-west-1","endpoint":"http://127.0.0.1:9","extra_user_agent":"x"})");
  EXPECT_TRUE(s.has_value());
  return *s;
}

TEST(AwsJsonSinkTest, SignsEachStepAndBoundsTheChain) {
  FakeHost fake;
  TestSink sink(sdk::Host(&fake.api), localService(), "logs", credentials(), 2);
  AwsJsonRequest r;
  ferry_http_request out{};
  ASSERT_TRUE(sink.httpRequest(r, out).has_value());
  EXPECT_STREQ(out.method, "POST");
  EXPECT_STREQ(out.url, "http://127.0.0.1:9/");
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(out.body), out.body_len),
            R"({"create":1})");
  EXPECT_EQ(static_cast<const void*>(out.body), static_cast<const void*>(r.step_body.data()));
  std::string all;
  for (size_t i = 0; i < out.header_count; ++i)
    all += std::string(out.headers[i]) + "\n";
  EXPECT_NE(all.find("X-Amz-Target: Svc.Create\n"), std::string::npos) << all;
  EXPECT_NE(all.find("x-extra: 1\n"), std::string::npos) << all;
  EXPECT_NE(all.find("User-Agent: ferry x\n"), std::string::npos) << all;
  EXPECT_NE(all.find("/eu-west-1/logs/aws4_request"), std::string::npos) << all;

  sink.create = false;
  ASSERT_TRUE(sink.httpRequest(r, out).has_value());
  EXPECT_EQ(static_cast<const void*>(out.body), static_cast<const void*>(sink.put_body.data()));
  EXPECT_TRUE(r.step_body.empty());

  // Two CONTINUE in a row pass; the third is retried with the request's words.
  r.what = "app / s";
  ferry_http_response answer{};
  answer.status = 400;
  ferry_plugin_verdict v{};
  for (int i = 0; i < 2; ++i) {
    v = {};
    sink.httpResponse(r, answer, v);
    EXPECT_EQ(v.kind, FERRY_VERDICT_CONTINUE) << i;
  }
  v = {};
  sink.httpResponse(r, answer, v);
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_STREQ(v.message, "app / s still missing");
  EXPECT_EQ(r.chained, 0u);
  // Another verdict resets the count.
  v = {};
  sink.httpResponse(r, answer, v);
  answer.status = 200;
  v = {};
  sink.httpResponse(r, answer, v);
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
  EXPECT_EQ(r.chained, 0u);
  EXPECT_EQ(fake.counters["answers"], 5u);
  EXPECT_FALSE(fake.counters.contains("never"));
}

TEST(AwsJsonSinkTest, NoCredentialsYetIsAnError) {
  FakeHost fake;
  TestSink sink(sdk::Host(&fake.api), localService(), "logs", credentials(false), 2);
  AwsJsonRequest r;
  ferry_http_request out{};
  auto sent = sink.httpRequest(r, out);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error(), "no AWS credentials available yet (see the aws log lines)");
}

TEST(AwsJsonSinkTest, FailAwsCallSetsTheClassAndTheMessage) {
  const std::string body = R"({"__type":"ResourceNotFoundException","message":"gone"})";
  ferry_http_response r{};
  r.status = 400;
  r.body = reinterpret_cast<const uint8_t*>(body.data());
  r.body_len = body.size();
  ferry_plugin_verdict v{};
  failAwsCall(StatusClass::kUnauthorized, "PutLogEvents", "log group 'g' does not exist", r,
              awsError(r), v);
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 1u);
  EXPECT_STREQ(v.message, "PutLogEvents: log group 'g' does not exist (HTTP 400 "
                          "ResourceNotFoundException): gone");
}

} // namespace
} // namespace ferry::sink
