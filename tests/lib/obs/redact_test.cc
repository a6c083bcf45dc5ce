// Masking of secrets in ferry's log: registered values, credential-bearing header, query and
// JSON fields, secrets cut short by a truncation, and snippets that mask before they cut.
#include "ferry/obs/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/obs/log.h"

namespace ferry::obs {
namespace {

const std::vector<std::string> kNone;

TEST(RedactTest, MasksEveryOccurrenceOfAGivenSecret) {
  const std::vector<std::string> secrets = {"0123456789abcdef0123456789abcdef"};
  EXPECT_EQ(redact("key 0123456789abcdef0123456789abcdef was refused, "
                   "0123456789abcdef0123456789abcdef again",
                   secrets),
            "key *** was refused, *** again");
}

TEST(RedactTest, LeavesTextWithoutSecretsAlone) {
  const std::vector<std::string> secrets = {"s3cr3t-value"};
  const std::string text = "API key rejected (HTTP 403): check api_key and site";
  EXPECT_EQ(redact(text, secrets), text);
}

TEST(RedactTest, IgnoresSecretsTooShortToMaskSafely) {
  const std::vector<std::string> secrets = {"ab"};
  EXPECT_EQ(redact("abc", secrets), "abc");
}

TEST(RedactTest, MasksCredentialHeadersWhateverTheirCase) {
  EXPECT_EQ(redact("DD-API-KEY: deadbeef\r\nContent-Type: application/json", kNone),
            "DD-API-KEY: ***\r\nContent-Type: application/json");
  EXPECT_EQ(redact("dd-api-key:deadbeef, accept: */*", kNone), "dd-api-key:***, accept: */*");
  EXPECT_EQ(redact("X-Amz-Security-Token: IQoJb3JpZ2luX2VjEH0aCXVz\nHost: s3", kNone),
            "X-Amz-Security-Token: ***\nHost: s3");
}

TEST(RedactTest, MasksTheWholeAuthorizationValue) {
  EXPECT_EQ(redact("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/s3/"
                   "aws4_request, SignedHeaders=host, Signature=abcdef\r\nHost: x",
                   kNone),
            "Authorization: ***\r\nHost: x");
  EXPECT_EQ(redact("proxy-authorization: Basic dXNlcjpwYXNz", kNone), "proxy-authorization: ***");
}

TEST(RedactTest, MasksQueryAndJsonFields) {
  EXPECT_EQ(redact("GET /x?X-Amz-Security-Token=abc%2Fdef&X-Amz-Date=20240101", kNone),
            "GET /x?X-Amz-Security-Token=***&X-Amz-Date=20240101");
  EXPECT_EQ(redact(R"({"headers":{"DD-API-KEY":"k3y-value","accept":"*/*"}})", kNone),
            R"({"headers":{"DD-API-KEY":"***","accept":"*/*"}})");
  EXPECT_EQ(redact(R"({"SessionToken": "IQoJb3Jp", "Expiration": "2030"})", kNone),
            R"({"SessionToken": "***", "Expiration": "2030"})");
  EXPECT_EQ(redact("<SecretAccessKey>wJalrXUtnFEMI</SecretAccessKey> api_key = 'abcd'", kNone),
            "<SecretAccessKey>***</SecretAccessKey> api_key = '***'");
}

TEST(RedactTest, KeepsFerrysOwnMessagesAboutSecretOptionsReadable) {
  for (const std::string text :
       {"api_key: required and must not be empty", "response lacks AccessKeyId/SecretAccessKey",
        "API key rejected (HTTP 403): check api_key and site"}) {
    EXPECT_EQ(redact(text, kNone), text);
  }
}

TEST(RedactTest, MasksTheBeginningOfASecretCutAtTheEnd) {
  const std::vector<std::string> secrets = {"0123456789abcdef"};
  EXPECT_EQ(redact("body: you sent 012345678", secrets), "body: you sent ***");
}

TEST(RedactTest, RegisteredSecretsAreMaskedByTheOneArgumentForm) {
  addSecret("registered-secret-for-redact-test");
  EXPECT_EQ(redact("echo registered-secret-for-redact-test"), "echo ***");
}

TEST(RedactTest, EveryLogLineIsRedacted) {
  addSecret("logged-secret-for-redact-test");
  std::vector<std::string> lines;
  setLogWriterForTesting([&](std::string_view line) { lines.emplace_back(line); });
  FERRY_LOG_WARN("datadog", "intake said: {} / {}", "logged-secret-for-redact-test",
                 "Authorization: Bearer xyz");
  setLogWriterForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("logged-secret-for-redact-test"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("xyz"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("intake said: *** / Authorization: ***"), std::string::npos) << lines[0];
}

TEST(LogSnippetTest, MasksBeforeItTruncates) {
  addSecret("snippet-secret-0123456789");
  // The secret straddles the 20-character limit: none of it may survive the cut.
  const std::string body = "0123456789 echo: snippet-secret-0123456789 tail";
  const std::string s = logSnippet(body, 20);
  EXPECT_EQ(s, "0123456789 echo: ***...");
}

TEST(LogSnippetTest, PrintableTrimmedAndBounded) {
  EXPECT_EQ(logSnippet("  line one\r\nline\ttwo\x01  ", 100), "line one  line two");
  EXPECT_EQ(logSnippet(std::string(50, 'x'), 10), std::string(10, 'x') + "...");
  EXPECT_EQ(logSnippet("", 10), "");
}

} // namespace
} // namespace ferry::obs
