// The upload state machine: PutObject below the part size; Create → UploadPart × n →
// Complete above it (parts as S3 wants them, ETags into the Complete body); a failed step
// retried in place; a 200 Complete with an <Error> body retried; NoSuchUpload starts over;
// a refused part aborts the upload before the drop; a freed open upload is aborted by the
// next object first.
#include "s3/upload.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace ferry::s3 {
namespace {

using OrphanList = sink::OpenUploadList;

S3Config testConfig() {
  rapidjson::Document doc;
  doc.Parse(R"({"bucket":"logs","region":"us-east-1","endpoint":"http://127.0.0.1:9",
               "storage_class":"STANDARD_IA","sse":"AES256"})");
  auto c = parseConfig(sdk::Options(doc, kDescriptor), nullptr);
  EXPECT_TRUE(c.has_value());
  return *c;
}

core::ByteBuffer bytes(size_t n) {
  core::ByteBuffer b;
  for (size_t i = 0; i < n; ++i)
    b.push_back(static_cast<char>('a' + i % 26));
  return b;
}

struct Answer {
  Answer(int s, std::vector<std::string> h, std::string b)
      : status(s), headers(std::move(h)), body(std::move(b)) {}
  int status = 200;
  std::vector<std::string> headers;
  std::string body;
  ferry_http_response view() const {
    ptrs.clear();
    for (const auto& h : headers)
      ptrs.push_back(h.c_str());
    ferry_http_response r{};
    r.status = status;
    r.headers = ptrs.data();
    r.header_count = ptrs.size();
    r.body = reinterpret_cast<const uint8_t*>(body.data());
    r.body_len = body.size();
    r.error = status == 0 ? "connection refused" : nullptr;
    return r;
  }
  mutable std::vector<const char*> ptrs;
};

// The upload as the kit's object sink drives it: abort steps are the kit's, the rest S3's.
S3Upload upload(std::string key, core::ByteBuffer body, size_t records, OrphanList* orphans,
                std::vector<sink::OpenUpload> aborts = {}) {
  return S3Upload(std::move(key), std::move(body), kMinPartBytes, kMaxParts, records, orphans,
                  std::move(aborts));
}

S3Call callOf(const S3Upload& u, const S3Config& c) {
  if (auto abort = sink::abortStepCall(u)) return *abort;
  return uploadCall(u, c);
}

ferry_plugin_verdict answer(S3Upload& u, const S3Config& c, const Answer& a) {
  ferry_plugin_verdict v{};
  const ferry_http_response r = a.view();
  if (!sink::abortStepAnswered(u, r, v)) onResponse(u, c, r, v);
  return v;
}

std::string errorXml(const std::string& code) {
  return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>";
}

const Answer kCreated{
    200,
    {},
    "<InitiateMultipartUploadResult><UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>"};

TEST(S3UploadTest, SmallObjectIsOnePut) {
  const S3Config c = testConfig();
  S3Upload u = upload("k/a.gz", bytes(1000), 10, nullptr);
  EXPECT_EQ(u.step(), Step::kPut);
  const S3Call call = callOf(u, c);
  EXPECT_EQ(call.method, "PUT");
  EXPECT_EQ(call.query, "");
  EXPECT_EQ(call.body.size(), 1000u);
  auto has = [&](const char* name, const char* value) {
    for (const auto& [n, v] : call.headers)
      if (n == name && v == value) return true;
    return false;
  };
  EXPECT_TRUE(has("Content-Type", "application/x-ndjson"));
  EXPECT_TRUE(has("x-amz-storage-class", "STANDARD_IA"));
  EXPECT_TRUE(has("x-amz-server-side-encryption", "AES256"));
  EXPECT_EQ(answer(u, c, {500, {}, errorXml("InternalError")}).kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(u.step(), Step::kPut);
  EXPECT_EQ(answer(u, c, {200, {"ETag: \"x\""}, ""}).kind, FERRY_VERDICT_DELIVERED);
}

TEST(S3UploadTest, MultipartHappyPath) {
  const S3Config c = testConfig();
  const size_t size = 2 * kMinPartBytes + 123;
  S3Upload u = upload("k/big", bytes(size), 7, nullptr);
  ASSERT_EQ(u.partCount(), 3u);
  ASSERT_EQ(u.step(), Step::kCreate);
  S3Call call = callOf(u, c);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.query, "uploads=");
  EXPECT_TRUE(call.body.empty());
  EXPECT_EQ(answer(u, c, kCreated).kind, FERRY_VERDICT_CONTINUE);
  EXPECT_EQ(u.uploadId(), "up&1");
  size_t total = 0;
  for (int part = 1; part <= 3; ++part) {
    ASSERT_EQ(u.step(), Step::kPart);
    call = callOf(u, c);
    EXPECT_EQ(call.method, "PUT");
    EXPECT_EQ(call.query, "partNumber=" + std::to_string(part) + "&uploadId=up%261");
    EXPECT_EQ(call.body.size(), part < 3 ? kMinPartBytes : 123u);
    total += call.body.size();
    if (part == 2) { // a failed part is sent again, not skipped
      EXPECT_EQ(answer(u, c, {0, {}, ""}).kind, FERRY_VERDICT_RETRY);
      EXPECT_EQ(callOf(u, c).query, call.query);
    }
    EXPECT_EQ(answer(u, c, {200, {"etag: \"e" + std::to_string(part) + "\""}, ""}).kind,
              FERRY_VERDICT_CONTINUE);
  }
  EXPECT_EQ(total, size);
  ASSERT_EQ(u.step(), Step::kComplete);
  call = callOf(u, c);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.query, "uploadId=up%261");
  const std::string xml(call.body);
  EXPECT_NE(xml.find("<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
                     "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
                     "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag></Part>"),
            std::string::npos)
      << xml;
  // S3 may answer 200 and report the failure in the body: not delivered.
  EXPECT_EQ(answer(u, c, {200, {}, errorXml("InternalError")}).kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(answer(u, c, {200, {}, "<CompleteMultipartUploadResult/>"}).kind,
            FERRY_VERDICT_DELIVERED);
  EXPECT_EQ(u.step(), Step::kDone);
}

TEST(S3UploadTest, NoSuchUploadStartsOver) {
  const S3Config c = testConfig();
  S3Upload u = upload("k", bytes(kMinPartBytes * 2), 1, nullptr);
  answer(u, c, kCreated);
  answer(u, c, {200, {"ETag: \"e1\""}, ""});
  EXPECT_EQ(answer(u, c, {404, {}, errorXml("NoSuchUpload")}).kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(u.step(), Step::kCreate);
  answer(u, c, kCreated);
  EXPECT_EQ(callOf(u, c).query, "partNumber=1&uploadId=up%261");
}

TEST(S3UploadTest, RefusedPartAbortsThenDrops) {
  const S3Config c = testConfig();
  S3Upload u = upload("k", bytes(kMinPartBytes * 2), 1, nullptr);
  answer(u, c, kCreated);
  auto v = answer(u, c, {400, {}, errorXml("InvalidArgument")});
  EXPECT_EQ(v.kind, FERRY_VERDICT_CONTINUE);
  ASSERT_EQ(u.step(), Step::kAbort);
  const S3Call call = callOf(u, c);
  EXPECT_EQ(call.method, "DELETE");
  EXPECT_EQ(call.query, "uploadId=up%261");
  v = answer(u, c, {204, {}, ""});
  EXPECT_EQ(v.kind, FERRY_VERDICT_DROP);
  EXPECT_NE(std::string(v.message).find("InvalidArgument"), std::string::npos) << v.message;
}

TEST(S3UploadTest, AbandonedUploadIsAbortedByTheNextObject) {
  const S3Config c = testConfig();
  OrphanList list;
  OrphanList* orphans = &list;
  {
    S3Upload u = upload("old", bytes(kMinPartBytes), 1, orphans);
    answer(u, c, kCreated);
    // freed here, as when the runner gives up
  }
  ASSERT_EQ(orphans->size(), 1u);
  S3Upload next = upload("new", bytes(10), 1, orphans, orphans->take(4));
  ASSERT_EQ(next.step(), Step::kAbortOrphan);
  const S3Call call = callOf(next, c);
  EXPECT_EQ(call.method, "DELETE");
  EXPECT_EQ(call.key, "old");
  EXPECT_EQ(call.query, "uploadId=up%261");
  // A network failure puts it back for a later object; this one goes on.
  EXPECT_EQ(answer(next, c, {0, {}, ""}).kind, FERRY_VERDICT_CONTINUE);
  EXPECT_EQ(orphans->size(), 1u);
  EXPECT_EQ(next.step(), Step::kPut);
  EXPECT_EQ(answer(next, c, {200, {}, ""}).kind, FERRY_VERDICT_DELIVERED);
}

TEST(S3UploadTest, PartCountStaysWithinS3Limits) {
  uint64_t part = kMinPartBytes;
  EXPECT_EQ(sink::partCountFor(kMinPartBytes - 1, part, kMaxParts), 0u);
  EXPECT_EQ(sink::partCountFor(kMinPartBytes, part, kMaxParts), 1u);
  part = kMinPartBytes;
  const uint64_t huge = kMinPartBytes * (kMaxParts + 5);
  EXPECT_LE(sink::partCountFor(huge, part, kMaxParts), kMaxParts);
  EXPECT_GT(part, kMinPartBytes);
}

} // namespace
} // namespace ferry::s3
