// A POST sink with a scripted encoder: encode() compresses the encoder's array into the
// request it describes (POST, URL, header lines), reports what was truncated or dropped,
// makes no request when every record was dropped, keeps encoders apart across threads, and
// judges answers with the sink's words.
#include "ferry/sink/post_sink.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ferry::sink {
namespace {

// Each record's data is its JSON object; "drop" is malformed, "cut" written but truncated.
class ScriptedEncoder {
public:
  JsonArrayStats encodeJson(std::span<const ferry_plugin_record> records, core::ByteBuffer& out) {
    ++calls;
    return appendJsonArray(records, JsonArrayLimits{3, 1000}, out,
                           [&](const ferry_plugin_record& r, std::string_view& object) {
                             object = {reinterpret_cast<const char*>(r.data), r.data_len};
                             if (object == "drop") return ObjectResult::kMalformed;
                             return object == R"({"cut":1})" ? ObjectResult::kTruncated
                                                             : ObjectResult::kWritten;
                           });
  }
  int calls = 0;
};

struct Recorder {
  std::mutex mu;
  std::vector<std::string> logs;
  std::vector<std::pair<std::string, uint64_t>> counters;
};
void recordLog(void* ctx, uint32_t, const char* message, size_t len) {
  auto* r = static_cast<Recorder*>(ctx);
  std::lock_guard lock(r->mu);
  r->logs.emplace_back(message, len);
}
void recordCounter(void* ctx, const char* name, uint64_t value) {
  auto* r = static_cast<Recorder*>(ctx);
  std::lock_guard lock(r->mu);
  r->counters.emplace_back(name, value);
}

// Records whose data are the given objects (kept alive with them).
struct Records {
  explicit Records(std::vector<std::string> o) : objects(std::move(o)) {
    for (const auto& object : objects)
      list.push_back(
          {0, "t", 1, reinterpret_cast<const uint8_t*>(object.data()), object.size(), 0});
  }
  operator std::span<const ferry_plugin_record>() const { return list; }
  std::vector<std::string> objects;
  std::vector<ferry_plugin_record> list;
};

const StatusWords kWords = {.server_error = {"vendor down (HTTP {})"}};

class PostSinkTest : public testing::Test {
protected:
  PostSink<ScriptedEncoder> make(codec::Compression compression) {
    return PostSink<ScriptedEncoder>(
        host_,
        PostSettings{.url = "http://127.0.0.1:9/in",
                     .headers = {"X-Key: k", "Content-Type: application/json"},
                     .compression = compression,
                     .max_entry_bytes = 512,
                     .words = &kWords},
        [] { return std::make_unique<ScriptedEncoder>(); });
  }
  Recorder recorder_;
  ferry_host_api api_{FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, &recorder_, recordLog,
                      recordCounter};
  sdk::Host host_{&api_};
};

TEST_F(PostSinkTest, EncodesCompressesAndDescribesThePost) {
  auto sink = make(codec::Compression::kGzip);
  const Records recs({R"({"a":1})", R"({"b":2})", R"({"c":3})", R"({"d":4})"});
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(recs, consumed, dropped);
  ASSERT_TRUE(request.has_value()) << request.error();
  ASSERT_NE(*request, nullptr);
  EXPECT_EQ(consumed, 3u) << "the encoder's limit of 3 entries";
  EXPECT_EQ(dropped, 0u);
  auto& body = static_cast<BodyRequest&>(**request);
  EXPECT_EQ(body.entries, 3u);
  EXPECT_EQ(body.raw_bytes, std::string(R"([{"a":1},{"b":2},{"c":3}])").size());
  ferry_http_request http{};
  ASSERT_TRUE(sink.httpRequest(**request, http).has_value());
  EXPECT_STREQ(http.method, "POST");
  EXPECT_STREQ(http.url, "http://127.0.0.1:9/in");
  ASSERT_EQ(http.header_count, 2u);
  EXPECT_STREQ(http.headers[0], "X-Key: k");
  core::ByteBuffer plain;
  ASSERT_TRUE(codec::decompress(codec::Compression::kGzip,
                                {reinterpret_cast<const char*>(http.body), http.body_len}, plain,
                                1 << 20));
  EXPECT_EQ(plain.view(), R"([{"a":1},{"b":2},{"c":3}])");
  EXPECT_TRUE(recorder_.logs.empty());
  EXPECT_TRUE(recorder_.counters.empty());
}

TEST_F(PostSinkTest, ReportsTruncatedAndDropped) {
  auto sink = make(codec::Compression::kNone);
  const Records recs({"drop", R"({"cut":1})", R"({"ok":1})"});
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(recs, consumed, dropped);
  ASSERT_TRUE(request.has_value());
  ASSERT_NE(*request, nullptr);
  EXPECT_EQ(consumed, 3u);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(static_cast<BodyRequest&>(**request).body.view(), R"([{"cut":1},{"ok":1}])")
      << "none: the body as encoded";
  ASSERT_EQ(recorder_.counters.size(), 1u);
  EXPECT_EQ(recorder_.counters[0], (std::pair<std::string, uint64_t>{"truncated", 1}));
  ASSERT_EQ(recorder_.logs.size(), 2u);
  EXPECT_EQ(recorder_.logs[0], "1 entries over 512 bytes had their message truncated");
  EXPECT_EQ(recorder_.logs[1],
            "dropped 1 records: malformed, or over 512 bytes without their message");
}

TEST_F(PostSinkTest, EveryRecordDroppedMakesNoRequest) {
  auto sink = make(codec::Compression::kZstd);
  const Records recs({"drop", "drop"});
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(recs, consumed, dropped);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(*request, nullptr);
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(dropped, 2u);
}

TEST_F(PostSinkTest, EncodersAreNotSharedAcrossThreads) {
  auto sink = make(codec::Compression::kZstd);
  std::vector<std::string> bodies(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < bodies.size(); ++t) {
    threads.emplace_back([&, t] {
      const std::string object = "{\"t\":" + std::to_string(t) + "}";
      const Records recs({object});
      for (int i = 0; i < 200; ++i) {
        size_t consumed = 0, dropped = 0;
        auto request = sink.encode(recs, consumed, dropped);
        core::ByteBuffer plain;
        const auto& b = static_cast<BodyRequest&>(**request).body;
        if (!codec::decompress(codec::Compression::kZstd, b.view(), plain, 1 << 20)) {
          bodies[t] = "undecodable";
          return;
        }
        if (plain.view() != "[" + object + "]") {
          bodies[t] = std::string(plain.view());
          return;
        }
      }
      bodies[t] = "ok";
    });
  }
  for (auto& th : threads)
    th.join();
  for (const auto& b : bodies)
    EXPECT_EQ(b, "ok");
}

TEST_F(PostSinkTest, JudgesWithTheSinksWords) {
  auto sink = make(codec::Compression::kNone);
  const Records recs({R"({"a":1})"});
  size_t consumed = 0, dropped = 0;
  auto request = sink.encode(recs, consumed, dropped);
  ferry_http_response r{};
  r.status = 503;
  ferry_plugin_verdict v{};
  sink.httpResponse(**request, r, v);
  EXPECT_EQ(v.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_STREQ(v.message, "vendor down (HTTP 503)");
  r.status = 202;
  ferry_plugin_verdict ok{};
  sink.httpResponse(**request, r, ok);
  EXPECT_EQ(ok.kind, static_cast<uint32_t>(FERRY_VERDICT_DELIVERED));
}

} // namespace
} // namespace ferry::sink
