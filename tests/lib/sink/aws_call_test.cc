// A signed call as the host sends it: the request's headers with Host, then the signer's
// (X-Amz-Date, the token, Authorization with the given scope); the method a static string;
// never a null body.
#include "ferry/sink/aws_call.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::sink {
namespace {

TEST(AwsCallTest, SignsAndDescribes) {
  const aws::Credentials creds{.access_key_id = "AKIDEXAMPLE",
                               .secret_access_key = "secret",
                               .session_token = "tok",
                               .expiration = std::nullopt,
                               .source = "test"};
  SignedCall call;
  aws::SigV4Request req{.method = "PUT", .path = "/b/k", .headers = {{"Content-Type", "a/b"}}};
  const auto now = std::chrono::sys_days{std::chrono::year{2024} / 3 / 5};
  signAwsCall(req, "s3.eu-west-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com/b/k", creds,
              "eu-west-1", "s3", {.s3 = true}, now, call);
  ASSERT_GE(call.header_lines.size(), 5u);
  EXPECT_EQ(call.header_lines[0], "Content-Type: a/b");
  EXPECT_EQ(call.header_lines[1], "Host: s3.eu-west-1.amazonaws.com");
  std::string all;
  for (const auto& h : call.header_lines)
    all += h + "\n";
  EXPECT_NE(all.find("X-Amz-Date: 20240305T000000Z"), std::string::npos) << all;
  EXPECT_NE(all.find("X-Amz-Security-Token: tok"), std::string::npos) << all;
  EXPECT_NE(all.find("Credential=AKIDEXAMPLE/20240305/eu-west-1/s3/aws4_request"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("x-amz-content-sha256: "), std::string::npos) << all;

  ferry_http_request out{};
  const std::string method = "DELETE"; // a temporary's text must not be kept
  call.describe(method, "", out);
  EXPECT_STREQ(out.method, "DELETE");
  EXPECT_NE(static_cast<const void*>(out.method), static_cast<const void*>(method.data()));
  EXPECT_EQ(out.url, call.url);
  EXPECT_EQ(out.header_count, call.header_lines.size());
  EXPECT_STREQ(out.headers[1], "Host: s3.eu-west-1.amazonaws.com");
  ASSERT_NE(out.body, nullptr);
  EXPECT_EQ(out.body_len, 0u);
  call.describe("PUT", "abc", out);
  EXPECT_STREQ(out.method, "PUT");
  EXPECT_EQ(out.body_len, 3u);
}

} // namespace
} // namespace ferry::sink
