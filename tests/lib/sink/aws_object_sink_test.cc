// The kit's object-store sink around a store's own steps: an object per request keyed from the
// template ($TAG, $INDEX counting objects), each attempt signed for the target, the abort steps
// answered by the kit (best effort; a failed abort logged with the store's hint), counters for
// what each answer did, no credentials an error, and at shutdown the abandoned uploads aborted
// against a real server.
#include "ferry/sink/aws_object_sink.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "http_test_server.h"
#include "plugin_records.h"
#include "sink_test_host.h"

namespace ferry::sink {
namespace {

using FakeHost = test::RecordingHost;

aws::CredentialsProviderPtr credentials(bool ok = true) {
  return test::staticCredentials(ok);
}

AwsObjectStore store(const std::string& endpoint, std::string key_format = "logs/$TAG/$INDEX") {
  AwsObjectStore s{.service = "s3",
                   .uri_scheme = "s3",
                   .key_format = std::move(key_format),
                   .max_key_bytes = 64,
                   .part_size = 4096,
                   .max_parts = 100,
                   .object = ObjectSettings::forTarget(codec::Compression::kNone, 0, 1 << 20, {}),
                   .abandoned_hint = "a lifecycle rule removes such uploads"};
  s.target.bucket = "b";
  s.target.region = "us-east-1";
  EXPECT_TRUE(resolveObjectTarget("endpoint", endpoint, "s3", s.target).has_value());
  return s;
}

// A store whose one put and create answer 200; anything else is refused (DROP).
class TestSink : public AwsObjectSink {
public:
  using AwsObjectSink::AwsObjectSink;

private:
  std::string_view stepName(UploadStep step) const override {
    return step == UploadStep::kAbort ? "Abort" : "Step";
  }
  AwsRestCall call(const AwsObjectUpload& u) const override {
    return {.method = "PUT", .key = u.key(), .query = "", .body = u.body(), .headers = {}};
  }
  UploadEvent judge(AwsObjectUpload& u, const ferry_http_response& r,
                    ferry_plugin_verdict& v) override {
    if (r.status == 200 && u.step() == UploadStep::kCreate) {
      u.created("up1");
      v.kind = FERRY_VERDICT_CONTINUE;
      return {};
    }
    if (r.status == 200) {
      u.delivered();
      v.kind = FERRY_VERDICT_DELIVERED;
      return {.object_done = true};
    }
    v.kind = FERRY_VERDICT_DROP;
    u.failed(v);
    return {};
  }
};

core::ByteBuffer bytes(size_t n) {
  core::ByteBuffer b;
  b.append(std::string(n, 'x'));
  return b;
}

ferry_http_response status(int s) {
  ferry_http_response r{};
  r.status = s;
  return r;
}

TEST(AwsObjectSinkTest, OneObjectPerRequestKeyedSignedAndCounted) {
  FakeHost fake;
  TestSink sink(sdk::Host(&fake.api), store("http://127.0.0.1:9"), credentials());
  test::PluginRecords records;
  records.lines(3, 20);
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(records.view(), consumed, dropped);
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(consumed, 3u);
  auto& upload = static_cast<AwsObjectUpload&>(**request);
  EXPECT_EQ(upload.key(), "logs/t/1");
  EXPECT_EQ(upload.step(), UploadStep::kPut);

  ferry_http_request out{};
  ASSERT_TRUE(sink.httpRequest(upload, out).has_value());
  EXPECT_STREQ(out.method, "PUT");
  EXPECT_STREQ(out.url, "http://127.0.0.1:9/b/logs/t/1");
  ASSERT_GE(out.header_count, 2u);
  EXPECT_STREQ(out.headers[0], "Host: 127.0.0.1:9");
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(out.body), out.body_len), upload.body());

  ferry_plugin_verdict v{};
  sink.httpResponse(upload, status(200), v);
  EXPECT_EQ(v.kind, FERRY_VERDICT_DELIVERED);
  EXPECT_EQ(fake.counters["objects_uploaded"], 1u);
  EXPECT_EQ(fake.counters["object_bytes"], upload.bodySize());
  EXPECT_TRUE(fake.logged("uploaded s3://b/logs/t/1 (3 records,"));

  // $INDEX counts the objects opened.
  auto next = sink.encode(records.view(), consumed, dropped);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(static_cast<AwsObjectUpload&>(**next).key(), "logs/t/2");
}

TEST(AwsObjectSinkTest, UnusableKeysAndMissingCredentialsAreErrors) {
  FakeHost fake;
  TestSink sink(sdk::Host(&fake.api), store("http://127.0.0.1:9", std::string(80, 'k')),
                credentials());
  test::PluginRecords records;
  records.line("x");
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(records.view(), consumed, dropped);
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error(), "key_format gives an unusable key (80 bytes)");

  TestSink none(sdk::Host(&fake.api), store("http://127.0.0.1:9"), credentials(false));
  auto r = none.encode(records.view(), consumed, dropped);
  ASSERT_TRUE(r.has_value());
  ferry_http_request out{};
  auto sent = none.httpRequest(**r, out);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error(), "no AWS credentials available yet (see the credentials log)");
}

TEST(AwsObjectSinkTest, RefusedPartAbortsFirstAndAFailedAbortIsLoggedWithTheHint) {
  FakeHost fake;
  TestSink sink(sdk::Host(&fake.api), store("http://127.0.0.1:9"), credentials());
  test::PluginRecords records;
  records.lines(8, 1000); // over the 4 KiB part size: multipart
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(records.view(), consumed, dropped);
  ASSERT_TRUE(request.has_value());
  auto& upload = static_cast<AwsObjectUpload&>(**request);
  ASSERT_EQ(upload.step(), UploadStep::kCreate);
  ferry_plugin_verdict v{};
  sink.httpResponse(upload, status(200), v); // created
  v = {};
  sink.httpResponse(upload, status(400), v); // the part refused: abort before the drop
  EXPECT_EQ(v.kind, FERRY_VERDICT_CONTINUE);
  ASSERT_EQ(upload.step(), UploadStep::kAbort);

  ferry_http_request out{};
  ASSERT_TRUE(sink.httpRequest(upload, out).has_value());
  EXPECT_STREQ(out.method, "DELETE");
  EXPECT_EQ(std::string(out.url), "http://127.0.0.1:9/b/logs/t/1?uploadId=up1");
  v = {};
  sink.httpResponse(upload, status(500), v);
  EXPECT_EQ(v.kind, FERRY_VERDICT_DROP);
  EXPECT_EQ(fake.counters["objects_dropped"], 1u);
  EXPECT_EQ(fake.counters["uploads_aborted"], 0u);
  EXPECT_TRUE(fake.logged("Abort failed (HTTP 500); a lifecycle rule removes such uploads"));
}

TEST(AwsObjectSinkTest, AbortStepsAreTheKits) {
  OpenUploadList list;
  {
    AwsObjectUpload open("old", bytes(8192), 4096, 100, 1, &list, {});
    open.created("id&1"); // freed while open: listed
  }
  AwsObjectUpload u("new", bytes(1), 4096, 100, 1, &list, list.take(kOrphanAbortsPerRequest));
  ASSERT_EQ(u.step(), UploadStep::kAbortOrphan);
  auto call = abortStepCall(u);
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->key, "old");
  EXPECT_EQ(call->query, "uploadId=id%261");
  ferry_plugin_verdict v{};
  auto ev = abortStepAnswered(u, status(404), v); // already gone counts as aborted
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->upload_aborted);
  EXPECT_EQ(v.kind, FERRY_VERDICT_CONTINUE);
  EXPECT_EQ(u.step(), UploadStep::kPut);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(abortStepCall(u).has_value());
  v = {};
  EXPECT_FALSE(abortStepAnswered(u, status(200), v).has_value());
  EXPECT_EQ(u.step(), UploadStep::kPut); // untouched
}

TEST(AwsObjectSinkTest, ShutdownAbortsTheAbandonedUploads) {
  test::HttpTestServer server([](const test::HttpTestRequest& r) {
    // The second object's abort fails.
    return test::HttpTestResponse{.status = r.path.ends_with("/t/1") ? 204 : 500};
  });
  FakeHost fake;
  {
    TestSink sink(sdk::Host(&fake.api), store(server.url()), credentials());
    test::PluginRecords records;
    records.lines(8, 1000);
    std::vector<sdk::RequestPtr> open;
    for (int i = 0; i < 2; ++i) {
      size_t consumed = 0, dropped = 0;
      auto request = sink.encode(records.view(), consumed, dropped);
      ASSERT_TRUE(request.has_value());
      open.push_back(std::move(*request));
    }
    for (auto& request : open) {
      ferry_plugin_verdict v{};
      sink.httpResponse(*request, status(200), v); // created
    }
    open.clear(); // freed while open, as when the runner gives up: abandoned
    EXPECT_EQ(server.requestCount(), 0u);
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_TRUE(r.header("Authorization").has_value());
  }
  EXPECT_EQ(requests[0].query, "uploadId=up1");
  EXPECT_FALSE(fake.logged("could not abort the multipart upload of s3://b/logs/t/1 "));
  EXPECT_TRUE(fake.logged("could not abort the multipart upload of s3://b/logs/t/2 (HTTP 500)"));
}

} // namespace
} // namespace ferry::sink
