// cloudwatch_logs internals: options, stream naming (prefix + tag, both template spellings,
// fallbacks), the encoder at every PutLogEvents limit (10,000 events, 1 MiB with 26 bytes per
// event, 24-hour span, 256 KiB per event truncated and marked, time order, invalid UTF-8,
// one stream per call), and the judgement of every answer and step.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <deque>
#include <string>
#include <vector>

#include "cloudwatch_logs/cloudwatch.h"
#include "ferry/output/partition.h"
#include "test_support.h"

namespace ferry::cloudwatch {
namespace {

std::expected<Config, std::string> parseJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseConfig(sdk::Options(doc, kDescriptor));
}

Config configOf(const std::string& extra) {
  auto c = parseJson(R"({"region":"eu-west-1","log_group_name":"app")" + extra + "}");
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error());
  return c ? *c : Config{};
}

constexpr int64_t kBase = 1'700'000'000'000LL; // ms

// Records kept alive with their bytes (a deque keeps them in place).
struct Records {
  std::deque<std::string> data, tags;
  std::vector<ferry_plugin_record> views;
  void add(std::string tag, std::string bytes, int64_t ms) {
    tags.push_back(std::move(tag));
    data.push_back(std::move(bytes));
    views.push_back({ms * 1'000'000, tags.back().data(), tags.back().size(),
                     reinterpret_cast<const uint8_t*>(data.back().data()), data.back().size(),
                     FERRY_RECORD_MSGPACK_MAP});
  }
  void log(std::string tag, std::string text, int64_t ms = kBase) {
    add(std::move(tag), test::packMap({{"log", std::move(text)}}), ms);
  }
};

rapidjson::Document bodyOf(const CloudWatchRequest& r) {
  rapidjson::Document d;
  d.Parse(r.put_body.data(), r.put_body.size());
  EXPECT_FALSE(d.HasParseError()) << r.put_body.substr(0, 200);
  return d;
}

TEST(CloudWatchConfigTest, NeedsExactlyOneOfStreamNameAndPrefix) {
  auto none = parseJson(R"({"region":"eu-west-1","log_group_name":"g"})");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().rfind("log_stream_name:", 0), 0u) << none.error();
  EXPECT_FALSE(parseJson(R"({"region":"eu-west-1","log_group_name":"g","log_stream_name":"s",
                             "log_stream_prefix":"p-"})"));
  auto ok = parseJson(R"({"region":"eu-west-1","log_group_name":"g","log_stream_prefix":"p-"})");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->aws.url, "https://logs.eu-west-1.amazonaws.com/");
}

TEST(CloudWatchConfigTest, RefusesRetentionCloudWatchDoesNotKnowAndBadTemplates) {
  auto days = parseJson(R"({"region":"eu-west-1","log_group_name":"g","log_stream_name":"s",
                            "log_retention_days":8})");
  ASSERT_FALSE(days);
  EXPECT_EQ(days.error().rfind("log_retention_days:", 0), 0u) << days.error();
  EXPECT_TRUE(parseJson(R"({"region":"eu-west-1","log_group_name":"g","log_stream_name":"s",
                            "log_retention_days":14})"));
  for (const char* bad : {"$(ecs_nope)", "a-$(tag", "$", "$TAG[x]"}) {
    auto t =
        parseJson(std::string(R"({"region":"eu-west-1","log_group_name":"g","log_stream_name":")") +
                  bad + "\"}");
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().rfind("log_stream_name:", 0), 0u) << t.error();
  }
}

TEST(CloudWatchNamesTest, PrefixPlusTagAndFixedNames) {
  Records rs;
  rs.log("app-firelens-123", "x");
  const Config prefix = configOf(R"(,"log_stream_prefix":"ecs-")");
  EXPECT_EQ(routeOf(prefix, rs.views[0]), (Route{"app", "ecs-app-firelens-123"}));
  const Config fixed = configOf(R"(,"log_stream_name":"/logs/host-1")");
  EXPECT_EQ(routeOf(fixed, rs.views[0]), (Route{"app", "/logs/host-1"}));
}

TEST(CloudWatchNamesTest, BothTemplateSpellingsOverTagAndFields) {
  Records rs;
  rs.add("kube.var.log.web", test::packMap({{"log", "x"}, {"service", "checkout"}}), kBase);
  // A nested field: {"kubernetes": {"namespace_name": "shop"}}.
  std::string nested = "\x82\xa3log\xa1y\xaakubernetes\x81\xaenamespace_name\xa4shop";
  rs.add("kube.a.b", nested, kBase);
  const Config go = *parseJson(R"j({"region":"eu-west-1","log_group_name":"/aws/$(service)",)j"
                               R"j("log_stream_name":"$(tag[1])-$(tag)"})j");
  EXPECT_EQ(routeOf(go, rs.views[0]), (Route{"/aws/checkout", "var-kube.var.log.web"}));
  const Config ra = configOf(
      R"(,"log_group_template":"/k8s/$kubernetes['namespace_name']","log_stream_prefix":"p.",)"
      R"("log_stream_template":"$TAG[2].$kubernetes['namespace_name']")");
  EXPECT_EQ(routeOf(ra, rs.views[1]), (Route{"/k8s/shop", "b.shop"}));
  const Config dash = configOf(R"(,"log_stream_template":"$TAG-logs","log_stream_prefix":"x")");
  EXPECT_EQ(routeOf(dash, rs.views[1]), (Route{"app", "kube.a.b-logs"}));
  // A missing value: the template falls back to the plain name, a name with a variable to
  // nothing (the record cannot be routed).
  EXPECT_EQ(routeOf(ra, rs.views[0]), (Route{"app", "p.kube.var.log.web"}));
  EXPECT_EQ(routeOf(go, rs.views[1]), std::nullopt);
}

// The runner's partition template covers every variable a name depends on, so records of
// one partition share a route; fixed names need no partitions.
TEST(CloudWatchNamesTest, PartitionTemplateCoversEveryVariableOfTheNames) {
  EXPECT_EQ(configOf(R"(,"log_stream_name":"/logs/host-1")").partition, "");
  EXPECT_EQ(configOf(R"(,"log_stream_prefix":"ecs-")").partition, "$TAG|");
  const Config go = *parseJson(R"j({"region":"eu-west-1","log_group_name":"/aws/$(service)",)j"
                               R"j("log_stream_name":"$(tag[1])-$(tag)-$(ecs_task_id)"})j");
  EXPECT_EQ(go.partition, "$(service)|$TAG|");
  const Config ra = configOf(
      R"(,"log_group_template":"/k8s/$kubernetes['namespace_name']","log_stream_prefix":"p.")");
  EXPECT_EQ(ra.partition, "$(kubernetes.namespace_name)|$TAG|");
  // The key the runner computes for two records of different streams differs.
  auto t = output::PartitionTemplate::parse(go.partition);
  ASSERT_TRUE(t) << t.error();
  const std::string a = test::packMap({{"log", "x"}, {"service", "a"}});
  const std::string b = test::packMap({{"log", "x"}, {"service", "b"}});
  EXPECT_NE(t->evaluate("app.web", a, FERRY_RECORD_MSGPACK_MAP),
            t->evaluate("app.web", b, FERRY_RECORD_MSGPACK_MAP));
  EXPECT_EQ(t->evaluate("app.web", a, FERRY_RECORD_MSGPACK_MAP),
            t->evaluate("app.web", a, FERRY_RECORD_MSGPACK_MAP));
}

TEST(CloudWatchEncoderTest, OneStreamPerCallOthersLeftForLater) {
  Records rs;
  rs.log("a", "1");
  rs.log("a", "2");
  rs.log("b", "3");
  rs.log("a", "4");
  const Config c = configOf(R"(,"log_stream_prefix":"s-")");
  EncodeStats st;
  auto req = encode(c, rs.views, st);
  ASSERT_TRUE(req);
  EXPECT_EQ(st.consumed, 2u) << "stops before the record of another stream";
  EXPECT_EQ(req->route, (Route{"app", "s-a"}));
  EncodeStats rest;
  auto next = encode(c, std::span(rs.views).subspan(2), rest);
  EXPECT_EQ(rest.consumed, 1u);
  EXPECT_EQ(next->route.stream, "s-b");
  // A fixed stream takes everything.
  EncodeStats all;
  EXPECT_EQ((encode(configOf(R"(,"log_stream_name":"one")"), rs.views, all), all.consumed), 4u);
}

TEST(CloudWatchEncoderTest, WholeRecordAsJsonOrLogKeyAndSortedStably) {
  Records rs;
  rs.add("t", test::packMap({{"log", "late"}, {"n", "1"}}), kBase + 5000);
  rs.log("t", "early-a", kBase);
  rs.log("t", "early-b", kBase);
  auto req =
      encode(configOf(R"(,"log_stream_name":"s")"), rs.views, *std::make_unique<EncodeStats>());
  auto d = bodyOf(*req);
  ASSERT_EQ(d["logEvents"].Size(), 3u);
  EXPECT_STREQ(d["logEvents"][0]["message"].GetString(), R"({"log":"early-a"})");
  EXPECT_STREQ(d["logEvents"][1]["message"].GetString(), R"({"log":"early-b"})");
  EXPECT_STREQ(d["logEvents"][2]["message"].GetString(), R"({"log":"late","n":"1"})");
  EXPECT_EQ(d["logEvents"][2]["timestamp"].GetInt64(), kBase + 5000);
  EXPECT_EQ(req->events[0].record, 1u) << "each event remembers its record";
  auto keyed = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), rs.views,
                      *std::make_unique<EncodeStats>());
  EXPECT_STREQ(bodyOf(*keyed)["logEvents"][2]["message"].GetString(), "late");
}

TEST(CloudWatchEncoderTest, RecordsWithoutTheKeyOrEmptyAreDroppedAndNamed) {
  Records rs;
  rs.add("t", test::packMap({{"other", "x"}}), kBase);
  rs.log("t", "");
  rs.log("t", "kept");
  EncodeStats st;
  auto req = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), rs.views, st);
  EXPECT_EQ(st.consumed, 3u);
  EXPECT_EQ(st.malformed, 2u);
  EXPECT_EQ(req->states,
            (std::vector<uint8_t>{FERRY_RECORD_DROPPED, FERRY_RECORD_DROPPED, FERRY_RECORD_HELD}));
}

TEST(CloudWatchEncoderTest, TenThousandEventsAtMost) {
  Records rs;
  for (int i = 0; i < 10'050; ++i)
    rs.log("t", "e");
  EncodeStats st;
  auto req = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), rs.views, st);
  EXPECT_EQ(st.consumed, kMaxEvents);
  EXPECT_EQ(bodyOf(*req)["logEvents"].Size(), kMaxEvents);
}

TEST(CloudWatchEncoderTest, OneMebibyteCountingTwentySixBytesPerEvent) {
  // Events of 1,024 bytes cost 1,050 each: floor(1,048,576 / 1,050) = 998 fit (1,024
  // would without the 26 bytes).
  Records rs;
  for (int i = 0; i < 1'000; ++i)
    rs.log("t", std::string(1024, 'a' + i % 26));
  EncodeStats st;
  auto req = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), rs.views, st);
  EXPECT_EQ(st.consumed, 998u);
  // Escapes count as the one byte they stand for; U+FFFD as its three.
  Records esc;
  esc.log("t", "a\"b\n\x01\xff");
  auto e = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), esc.views,
                  *std::make_unique<EncodeStats>());
  EXPECT_EQ(e->events[0].bytes, 5u + 3u);
  EXPECT_STREQ(bodyOf(*e)["logEvents"][0]["message"].GetString(), "a\"b\n\x01\xEF\xBF\xBD");
}

TEST(CloudWatchEncoderTest, TwentyFourHoursAtMostInOneCall) {
  Records rs;
  rs.log("t", "a", kBase);
  rs.log("t", "b", kBase + kMaxSpanMs); // exactly 24 h: allowed
  rs.log("t", "c", kBase - 1);          // widens it past 24 h
  EncodeStats st;
  encode(configOf(R"(,"log_stream_name":"s")"), rs.views, st);
  EXPECT_EQ(st.consumed, 2u);
}

TEST(CloudWatchEncoderTest, OverlongEventTruncatedOnACharacterAndMarked) {
  Records rs;
  std::string big(300 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 7)
    big.replace(i, 3, "\xE2\x82\xAC"); // multi-byte characters all along
  rs.log("t", big);
  EncodeStats st;
  auto req = encode(configOf(R"(,"log_stream_name":"s","log_key":"log")"), rs.views, st);
  EXPECT_EQ(st.truncated, 1u);
  ASSERT_EQ(req->events.size(), 1u);
  EXPECT_LE(req->events[0].bytes + kEventOverhead, kMaxEventBytes);
  EXPECT_GT(req->events[0].bytes + kEventOverhead, kMaxEventBytes - 4);
  const auto d = bodyOf(*req); // parses: valid UTF-8 to the end
  const std::string msg = d["logEvents"][0]["message"].GetString();
  EXPECT_TRUE(msg.ends_with(kTruncatedMark));
  EXPECT_EQ(msg.size(), req->events[0].bytes);
}

// ---- Answers -------------------------------------------------------------------------

struct Answer {
  int status;
  std::string body;
};

ferry_plugin_verdict answer(CloudWatchRequest& req, const Config& c, const Answer& a,
                            Outcome* out = nullptr) {
  ferry_http_response r{};
  r.status = a.status;
  r.body = reinterpret_cast<const uint8_t*>(a.body.data());
  r.body_len = a.body.size();
  r.error = a.status == 0 ? "Connection refused" : nullptr;
  ferry_plugin_verdict v{};
  Outcome o;
  judge(req, c, r, v, out ? *out : o);
  return v;
}

std::string awsError(std::string_view type, std::string_view message = "m") {
  return R"({"__type":"com.amazonaws.logs#)" + std::string(type) + R"(","message":")" +
         std::string(message) + "\"}";
}

std::unique_ptr<CloudWatchRequest> threeEvents(const Config& c) {
  static Records rs;
  rs.views.clear();
  rs.log("t", "old", kBase);
  rs.log("t", "mid", kBase + 1);
  rs.log("t", "new", kBase + 2);
  return encode(c, rs.views, *std::make_unique<EncodeStats>());
}

TEST(CloudWatchJudgeTest, StoredIsDeliveredRejectedEventsDroppedTheRestDelivered) {
  const Config c = configOf(R"(,"log_stream_name":"s")");
  auto req = threeEvents(c);
  EXPECT_EQ(answer(*req, c, {200, R"({"nextSequenceToken":"1"})"}).kind,
            static_cast<uint32_t>(FERRY_VERDICT_DELIVERED));
  Outcome o;
  const auto v = answer(*req, c,
                        {200, R"({"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1,)"
                              R"("tooNewLogEventStartIndex":2}})"},
                        &o);
  EXPECT_EQ(v.kind, static_cast<uint32_t>(FERRY_VERDICT_PARTIAL));
  EXPECT_EQ(v.records_delivered, 1u);
  EXPECT_EQ(v.records_dropped, 2u);
  EXPECT_EQ(o.too_old, 1u);
  EXPECT_EQ(o.too_new, 1u);
  std::vector<uint8_t> states(3);
  ASSERT_TRUE(req->recordStates(states));
  EXPECT_EQ(states, (std::vector<uint8_t>{FERRY_RECORD_DROPPED, FERRY_RECORD_DELIVERED,
                                          FERRY_RECORD_DROPPED}));
  auto expired = threeEvents(c);
  Outcome oe;
  const auto ve =
      answer(*expired, c, {200, R"({"rejectedLogEventsInfo":{"expiredLogEventEndIndex":2}})"}, &oe);
  EXPECT_EQ(ve.records_dropped, 2u);
  EXPECT_EQ(oe.expired, 2u);
}

TEST(CloudWatchJudgeTest, MissingStreamCreatedMissingGroupCreatedWhenAllowed) {
  const Config plain = configOf(R"(,"log_stream_name":"s")");
  auto req = threeEvents(plain);
  const std::string no_stream =
      awsError("ResourceNotFoundException", "The specified log stream does not exist.");
  const std::string no_group =
      awsError("ResourceNotFoundException", "The specified log group does not exist.");
  EXPECT_EQ(answer(*req, plain, {400, no_stream}).kind,
            static_cast<uint32_t>(FERRY_VERDICT_CONTINUE));
  EXPECT_EQ(req->step, Step::kCreateStream);
  EXPECT_EQ(callBody(*req, plain), R"({"logGroupName":"app","logStreamName":"s"})");
  const auto off = answer(*req, plain, {400, no_group});
  EXPECT_EQ(off.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_TRUE(off.unhealthy) << "an operator must create the group: " << off.message;

  const Config create = configOf(R"(,"log_stream_name":"s","auto_create_group":true,)"
                                 R"("log_retention_days":7,"log_group_tags":{"team":"a"})");
  auto r2 = threeEvents(create);
  EXPECT_EQ(answer(*r2, create, {400, no_group}).kind,
            static_cast<uint32_t>(FERRY_VERDICT_CONTINUE));
  EXPECT_EQ(r2->step, Step::kCreateGroup);
  EXPECT_EQ(callBody(*r2, create), R"({"logGroupName":"app","tags":{"team":"a"}})");
  // Created by someone else meanwhile: as good as created.
  EXPECT_EQ(answer(*r2, create, {400, awsError("ResourceAlreadyExistsException")}).kind,
            static_cast<uint32_t>(FERRY_VERDICT_CONTINUE));
  EXPECT_EQ(r2->step, Step::kRetention);
  EXPECT_EQ(callBody(*r2, create), R"({"logGroupName":"app","retentionInDays":7})");
  answer(*r2, create, {200, "{}"});
  EXPECT_EQ(r2->step, Step::kCreateStream);
  Outcome o;
  answer(*r2, create, {200, "{}"}, &o);
  EXPECT_TRUE(o.stream_exists);
  EXPECT_EQ(r2->step, Step::kPut);
  EXPECT_EQ(callBody(*r2, create), r2->put_body);
}

TEST(CloudWatchJudgeTest, ThrottlingAndServerErrorsRetriedInvalidParameterDropped) {
  const Config c = configOf(R"(,"log_stream_name":"s")");
  auto req = threeEvents(c);
  const auto t = answer(*req, c, {400, awsError("ThrottlingException", "Rate exceeded")});
  EXPECT_EQ(t.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_TRUE(t.throttled);
  const auto u = answer(*req, c, {503, awsError("ServiceUnavailableException")});
  EXPECT_EQ(u.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_EQ(answer(*req, c, {500, ""}).kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_EQ(answer(*req, c, {0, ""}).kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  Outcome o;
  const auto bad = answer(*req, c, {400, awsError("InvalidParameterException", "bad")}, &o);
  EXPECT_EQ(bad.kind, static_cast<uint32_t>(FERRY_VERDICT_DROP));
  EXPECT_EQ(o.invalid, 3u);
  const auto denied = answer(*req, c, {400, awsError("AccessDeniedException")});
  EXPECT_EQ(denied.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_TRUE(denied.unhealthy);
  EXPECT_EQ(answer(*req, c, {413, ""}).kind, static_cast<uint32_t>(FERRY_VERDICT_SPLIT));
}

} // namespace
} // namespace ferry::cloudwatch
