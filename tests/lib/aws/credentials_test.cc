// Credentials chain and provider: every source against a strict local HTTP server or a temp
// file, the chain's order, moving on past a failing source, refresh on a fake clock.
#include "ferry/aws/credentials.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <thread>

#include "ferry/aws/sigv4.h"
#include "http_test_server.h"
#include "test_support.h"

namespace ferry::aws {
namespace {

using namespace std::chrono_literals;
using test::HttpTestRequest;
using test::HttpTestResponse;
using test::HttpTestServer;

// A port nothing listens on: connections are refused at once (no 1 s timeouts, and never
// the real 169.254.x endpoints).
constexpr std::string_view kDeadEndpoint = "http://127.0.0.1:1";

const SystemTime kBaseTime = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};

std::string isoTime(SystemTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string credentialsJson(std::string_view key_id, SystemTime expiration) {
  return fmt::format(R"({{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{}",)"
                     R"("SecretAccessKey":"secret-{}","Token":"token-{}","Expiration":"{}"}})",
                     key_id, key_id, key_id, isoTime(expiration));
}

HttpTestResponse status(int code, std::string body = "") {
  HttpTestResponse r;
  r.status = code;
  r.body = std::move(body);
  return r;
}

HttpTestResponse json(std::string body) {
  HttpTestResponse r;
  r.body = std::move(body);
  r.content_type = "application/json";
  return r;
}

std::map<std::string, std::string> formParams(std::string_view body) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view part = body.substr(start, end - start);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      out[uriDecode(part.substr(0, eq))] = uriDecode(part.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

class FakeClock {
public:
  explicit FakeClock(SystemTime t) : ns_(t.time_since_epoch().count()) {}
  SystemTime now() const { return SystemTime(SystemTime::duration(ns_.load())); }
  void set(SystemTime t) { ns_.store(t.time_since_epoch().count()); }
  Clock fn() {
    return [this] { return now(); };
  }

private:
  std::atomic<SystemTime::rep> ns_;
};

// ---- Strict fake endpoints ------------------------------------------------------------------

// ECS agent: GET <path>, Authorization must match when a token is expected.
class FakeEcs {
public:
  FakeEcs(std::string path, std::optional<std::string> token)
      : path_(std::move(path)), token_(std::move(token)),
        server_([this](const HttpTestRequest& r) { return handle(r); }) {}

  std::string url() const { return server_.url(); }
  size_t requests() const { return server_.requestCount(); }
  std::atomic<int> answer_status{200};
  std::atomic<int> delay_ms{0};
  std::atomic<SystemTime::rep> expiration{(kBaseTime + 1h).time_since_epoch().count()};

private:
  HttpTestResponse handle(const HttpTestRequest& r) {
    if (delay_ms.load() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (r.method != "GET") return status(405);
    if (r.target != path_) return status(404, R"({"code":"NotFound","message":"no such path"})");
    if (token_ && r.header("Authorization") != token_) {
      return status(401, R"({"code":"Unauthorized","message":"bad token"})");
    }
    if (answer_status.load() != 200) {
      return status(answer_status.load(), R"({"message":"agent error"})");
    }
    const int n = ++served_;
    return json(credentialsJson(fmt::format("ECS{}", n),
                                SystemTime(SystemTime::duration(expiration.load()))));
  }

  std::string path_;
  std::optional<std::string> token_;
  std::atomic<int> served_{0};
  HttpTestServer server_;
};

// IMDSv2: PUT token (TTL header required), then role list and role document, each with
// the token header.
class FakeImds {
public:
  FakeImds() : server_([this](const HttpTestRequest& r) { return handle(r); }) {}
  std::string url() const { return server_.url(); }
  size_t requests() const { return server_.requestCount(); }
  std::vector<HttpTestRequest> log() const { return server_.requests(); }
  std::string issued_token = "imds-session-token";
  std::atomic<bool> accept_token{true}; // false: reject the token we issued (401)

private:
  HttpTestResponse handle(const HttpTestRequest& r) {
    if (r.path == "/latest/api/token") {
      if (r.method != "PUT") return status(405);
      const auto ttl = r.header("X-aws-ec2-metadata-token-ttl-seconds");
      const long seconds = ttl ? std::strtol(ttl->c_str(), nullptr, 10) : 0;
      if (seconds < 1 || seconds > 21600) {
        return status(400);
      }
      return status(200, issued_token);
    }
    if (r.method != "GET") return status(405);
    if (!accept_token.load() || r.header("X-aws-ec2-metadata-token") != issued_token) {
      return status(401);
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/") return status(200, "ferry-role\n");
    if (r.path == "/latest/meta-data/iam/security-credentials/ferry-role") {
      return json(credentialsJson("IMDS1", kBaseTime + 6h));
    }
    return status(404);
  }
  HttpTestServer server_;
};

// STS query API: POST / form AssumeRoleWithWebIdentity with the expected role and token.
class FakeSts {
public:
  FakeSts(std::string role_arn, std::string token)
      : role_arn_(std::move(role_arn)), token_(std::move(token)),
        server_([this](const HttpTestRequest& r) { return handle(r); }) {}
  std::string url() const { return server_.url(); }
  size_t requests() const { return server_.requestCount(); }
  std::vector<HttpTestRequest> log() const { return server_.requests(); }

private:
  static HttpTestResponse error(int code, std::string_view error_code) {
    HttpTestResponse r = status(
        code,
        fmt::format(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
            "</Type><Code>{}</Code><Message>Not authorized</Message></Error></ErrorResponse>",
            error_code));
    r.content_type = "text/xml";
    return r;
  }

  HttpTestResponse handle(const HttpTestRequest& r) {
    if (r.method != "POST" || r.path != "/") return status(404);
    if (!r.header("Content-Type").value_or("").starts_with("application/x-www-form-urlencoded")) {
      return error(400, "InvalidParameterValue");
    }
    auto params = formParams(r.body);
    if (params["Action"] != "AssumeRoleWithWebIdentity" || params["Version"] != "2011-06-15" ||
        params["RoleSessionName"].empty()) {
      return error(400, "InvalidAction");
    }
    if (params["RoleArn"] != role_arn_ || params["WebIdentityToken"] != token_) {
      return error(403, "AccessDenied");
    }
    HttpTestResponse ok;
    ok.content_type = "text/xml";
    ok.body = fmt::format(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
        "  <AssumeRoleWithWebIdentityResult>\n"
        "    "
        "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
        "    <Credentials>\n"
        "      <SessionToken>sts-token+/=&amp;x</SessionToken>\n"
        "      <SecretAccessKey>sts-secret</SecretAccessKey>\n"
        "      <Expiration>{}</Expiration>\n"
        "      <AccessKeyId>ASIASTS</AccessKeyId>\n"
        "    </Credentials>\n"
        "  </AssumeRoleWithWebIdentityResult>\n"
        "</AssumeRoleWithWebIdentityResponse>\n",
        isoTime(kBaseTime + 1h));
    return ok;
  }

  std::string role_arn_;
  std::string token_;
  HttpTestServer server_;
};

// ---- Fixture ---------------------------------------------------------------------------------

class CredentialsTest : public ::testing::Test {
protected:
  CredentialsTest() {
    env_["HOME"] = home_.path().string();
    options_.env = [this](std::string_view name) -> std::optional<std::string> {
      const auto it = env_.find(std::string(name));
      if (it == env_.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
    options_.clock = clock_.fn();
    options_.ecs_endpoint = kDeadEndpoint;
    options_.imds_endpoint = kDeadEndpoint;
    options_.sts_endpoint = kDeadEndpoint;
  }

  CredentialResult fetchFrom(CredentialSourcePtr source) { return source->fetch(); }

  std::expected<Credentials, std::string> resolveChain() {
    CredentialsChain chain(defaultCredentialSources(options_));
    return chain.resolve();
  }

  void writeHomeFile(std::string_view relative, std::string_view content) {
    std::filesystem::create_directories((home_.path() / relative).parent_path());
    test::writeFile(home_.path() / relative, content);
  }

  test::TempDir home_;
  std::map<std::string, std::string> env_;
  FakeClock clock_{kBaseTime};
  CredentialSourceOptions options_;
};

// ---- Single sources --------------------------------------------------------------------------

TEST_F(CredentialsTest, EnvironmentSource) {
  EXPECT_EQ(fetchFrom(makeEnvironmentSource(options_)).error().kind,
            CredentialError::Kind::kNotConfigured);
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  EXPECT_EQ(fetchFrom(makeEnvironmentSource(options_)).error().kind,
            CredentialError::Kind::kFailed);
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  env_["AWS_SESSION_TOKEN"] = "env-token";
  const CredentialResult r = fetchFrom(makeEnvironmentSource(options_));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->access_key_id, "AKIDENV");
  EXPECT_EQ(r->secret_access_key, "env-secret");
  EXPECT_EQ(r->session_token, "env-token");
  EXPECT_FALSE(r->expiration.has_value());
  EXPECT_EQ(r->source, "env");
}

TEST_F(CredentialsTest, EcsRelativeUriOnTheAgentEndpoint) {
  FakeEcs ecs("/v2/credentials/6e3c-task", std::nullopt);
  options_.ecs_endpoint = ecs.url();
  EXPECT_EQ(fetchFrom(makeContainerSource(options_)).error().kind,
            CredentialError::Kind::kNotConfigured);
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/6e3c-task";
  const CredentialResult r = fetchFrom(makeContainerSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ECS1");
  EXPECT_EQ(r->secret_access_key, "secret-ECS1");
  EXPECT_EQ(r->session_token, "token-ECS1");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(*r->expiration, kBaseTime + 1h);
  EXPECT_EQ(r->source, "ecs");
}

TEST_F(CredentialsTest, EcsEndpointOverrideFromEnvironment) {
  FakeEcs ecs("/creds", std::nullopt);
  options_.ecs_endpoint.clear(); // resolve() reads FERRY_AWS_ECS_ENDPOINT
  env_["FERRY_AWS_ECS_ENDPOINT"] = ecs.url() + "/";
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  const CredentialResult r = fetchFrom(makeContainerSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(ecs.requests(), 1u);
}

TEST_F(CredentialsTest, EcsFullUriSendsAuthorizationToken) {
  FakeEcs ecs("/get-credentials?a=1", "Basic abcd");
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/get-credentials?a=1";
  // No token: the agent answers 401 and the source fails.
  CredentialResult r = fetchFrom(makeContainerSource(options_));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(r.error().message.find("401"), std::string::npos) << r.error().message;

  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Basic abcd";
  r = fetchFrom(makeContainerSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ECS1");
}

TEST_F(CredentialsTest, EcsTokenFileWinsOverTokenVariable) {
  FakeEcs ecs("/creds", "from-file");
  test::writeFile(home_ / "token", "from-file\n");
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/creds";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "from-env";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_ / "token").string();
  const CredentialResult r = fetchFrom(makeContainerSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;

  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_ / "missing").string();
  EXPECT_EQ(fetchFrom(makeContainerSource(options_)).error().kind, CredentialError::Kind::kFailed);
}

TEST_F(CredentialsTest, EcsFullUriOverPlainHttpMustStayOnTheHost) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  const CredentialResult r = fetchFrom(makeContainerSource(options_));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not allowed"), std::string::npos) << r.error().message;
}

TEST_F(CredentialsTest, WebIdentityThroughSts) {
  FakeSts sts("arn:aws:iam::123456789012:role/ferry", "eyJhbGciOiJSUzI1NiJ9.jwt");
  test::writeFile(home_ / "jwt", "eyJhbGciOiJSUzI1NiJ9.jwt\n");
  options_.sts_endpoint.clear(); // resolve() reads AWS_ENDPOINT_URL_STS
  env_["AWS_ENDPOINT_URL_STS"] = sts.url();
  EXPECT_EQ(fetchFrom(makeWebIdentitySource(options_)).error().kind,
            CredentialError::Kind::kNotConfigured);
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home_ / "jwt").string();
  EXPECT_EQ(fetchFrom(makeWebIdentitySource(options_)).error().kind,
            CredentialError::Kind::kFailed); // no role
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ferry";
  env_["AWS_ROLE_SESSION_NAME"] = "my session";
  const CredentialResult r = fetchFrom(makeWebIdentitySource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIASTS");
  EXPECT_EQ(r->secret_access_key, "sts-secret");
  EXPECT_EQ(r->session_token, "sts-token+/=&x");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(*r->expiration, kBaseTime + 1h);
  ASSERT_EQ(sts.log().size(), 1u); // the two failures above never reached STS
  EXPECT_EQ(formParams(sts.log().back().body)["RoleSessionName"], "my session");

  // A wrong role: STS says AccessDenied and the message carries its code.
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/other";
  const CredentialResult denied = fetchFrom(makeWebIdentitySource(options_));
  ASSERT_FALSE(denied.has_value());
  EXPECT_NE(denied.error().message.find("AccessDenied"), std::string::npos)
      << denied.error().message;
}

TEST_F(CredentialsTest, WebIdentityDefaultSessionName) {
  FakeSts sts("arn:aws:iam::1:role/r", "tok");
  test::writeFile(home_ / "jwt", "tok");
  options_.sts_endpoint = sts.url();
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home_ / "jwt").string();
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  ASSERT_TRUE(fetchFrom(makeWebIdentitySource(options_)).has_value());
  EXPECT_TRUE(formParams(sts.log().at(0).body)["RoleSessionName"].starts_with("ferry-"));
}

TEST_F(CredentialsTest, StsEndpointDefaultsToTheRegion) {
  CredentialSourceOptions o;
  o.env = options_.env;
  env_["AWS_REGION"] = "eu-west-1";
  EXPECT_EQ(o.resolve().sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
  env_["AWS_REGION"] = "cn-north-1";
  EXPECT_EQ(o.resolve().sts_endpoint, "https://sts.cn-north-1.amazonaws.com.cn");
  env_.erase("AWS_REGION");
  EXPECT_EQ(o.resolve().sts_endpoint, "https://sts.amazonaws.com");
  EXPECT_EQ(o.resolve().ecs_endpoint, "http://169.254.170.2");
  EXPECT_EQ(o.resolve().imds_endpoint, "http://169.254.169.254");
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://[fd00:ec2::254]/";
  EXPECT_EQ(o.resolve().imds_endpoint, "http://[fd00:ec2::254]");
}

TEST_F(CredentialsTest, SharedCredentialsFileAndProfiles) {
  EXPECT_EQ(fetchFrom(makeSharedFileSource(options_)).error().kind,
            CredentialError::Kind::kNotConfigured);
  writeHomeFile(".aws/credentials",
                "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
                "aws_secret_access_key = default-secret ; trailing comment\n\n"
                "[prod]\naws_access_key_id=AKIDPROD\naws_secret_access_key=prod-secret\n"
                "aws_session_token=prod-token\n");
  writeHomeFile(".aws/config",
                "[default]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 10\n"
                "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n"
                "[profile prod]\naws_access_key_id = AKIDIGNORED\naws_secret_access_key = x\n"
                "[profile assume]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n");
  CredentialResult r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(r->secret_access_key, "default-secret");
  EXPECT_TRUE(r->session_token.empty());

  env_["AWS_PROFILE"] = "prod"; // the credentials file beats the config file
  r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDPROD");
  EXPECT_EQ(r->session_token, "prod-token");

  env_["AWS_PROFILE"] = "dev"; // "[profile dev]" in the config file
  r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDDEV");

  env_["AWS_PROFILE"] = "assume";
  r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(r.error().message.find("role_arn"), std::string::npos);

  env_["AWS_PROFILE"] = "nope";
  EXPECT_EQ(fetchFrom(makeSharedFileSource(options_)).error().kind, CredentialError::Kind::kFailed);
}

TEST_F(CredentialsTest, SharedFilesFromEnvironmentPaths) {
  test::writeFile(home_ / "creds.ini", "[ci]\naws_access_key_id=AKIDCI\naws_secret_access_key=s\n");
  test::writeFile(home_ / "config.ini",
                  "[default]\naws_access_key_id=AKIDCFG\naws_secret_access_key=s\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = "~/creds.ini";
  env_["AWS_CONFIG_FILE"] = (home_ / "config.ini").string();
  CredentialResult r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDCFG"); // [default] of the config file
  env_["AWS_PROFILE"] = "ci";
  r = fetchFrom(makeSharedFileSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDCI");
}

TEST_F(CredentialsTest, InstanceMetadataV2) {
  FakeImds imds;
  options_.imds_endpoint.clear(); // resolve() reads AWS_EC2_METADATA_SERVICE_ENDPOINT
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  const CredentialResult r = fetchFrom(makeInstanceMetadataSource(options_));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "IMDS1");
  EXPECT_EQ(r->session_token, "token-IMDS1");
  EXPECT_EQ(*r->expiration, kBaseTime + 6h);
  const auto log = imds.log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].method, "PUT");
  EXPECT_EQ(log[0].path, "/latest/api/token");
  EXPECT_EQ(log[1].path, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(log[2].path, "/latest/meta-data/iam/security-credentials/ferry-role");
}

TEST_F(CredentialsTest, InstanceMetadataRejectedTokenFailsAndDisableSkips) {
  FakeImds imds;
  options_.imds_endpoint = imds.url();
  imds.accept_token = false;
  const CredentialResult r = fetchFrom(makeInstanceMetadataSource(options_));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("401"), std::string::npos) << r.error().message;

  env_["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  const size_t before = imds.requests();
  EXPECT_EQ(fetchFrom(makeInstanceMetadataSource(options_)).error().kind,
            CredentialError::Kind::kNotConfigured);
  EXPECT_EQ(imds.requests(), before);
}

// ---- The chain -------------------------------------------------------------------------------

TEST_F(CredentialsTest, ChainOrderEnvThenEcsThenWebIdentityThenFileThenImds) {
  FakeEcs ecs("/creds", std::nullopt);
  FakeSts sts("arn:aws:iam::1:role/r", "jwt");
  FakeImds imds;
  options_.ecs_endpoint = ecs.url();
  options_.sts_endpoint = sts.url();
  options_.imds_endpoint = imds.url();
  test::writeFile(home_ / "jwt", "jwt");
  writeHomeFile(".aws/credentials",
                "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=s\n");
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "s";
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home_ / "jwt").string();
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";

  auto r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->access_key_id, "AKIDENV");
  EXPECT_EQ(ecs.requests() + sts.requests() + imds.requests(), 0u);

  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->source, "ecs");
  EXPECT_EQ(sts.requests() + imds.requests(), 0u);

  env_.erase("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->source, "web-identity");
  EXPECT_EQ(imds.requests(), 0u);

  env_.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  env_.erase("AWS_ROLE_ARN");
  r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->access_key_id, "AKIDFILE");
  EXPECT_EQ(imds.requests(), 0u);

  std::filesystem::remove(home_ / ".aws/credentials");
  r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->access_key_id, "IMDS1");
  EXPECT_EQ(r->source, "imds");
}

TEST_F(CredentialsTest, ChainMovesPastAFailingSource) {
  FakeEcs ecs("/creds", std::nullopt);
  ecs.answer_status = 500;
  FakeImds imds;
  options_.ecs_endpoint = ecs.url();
  options_.imds_endpoint = imds.url();
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  auto r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->source, "imds");
  EXPECT_EQ(ecs.requests(), 1u);

  // Also an unreachable agent (connection refused).
  options_.ecs_endpoint = kDeadEndpoint;
  r = resolveChain();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->source, "imds");
}

TEST_F(CredentialsTest, ChainReportsEverySourceWhenNothingWorks) {
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds"; // dead endpoint
  const auto r = resolveChain();
  ASSERT_FALSE(r.has_value());
  for (const char* name : {"env:", "ecs:", "web-identity:", "shared-file:", "imds:"}) {
    EXPECT_NE(r.error().find(name), std::string::npos) << r.error();
  }
}

// ---- The provider ----------------------------------------------------------------------------

class CredentialsProviderTest : public CredentialsTest {
protected:
  std::unique_ptr<CredentialsProvider> makeProvider() {
    CredentialsProviderOptions o;
    o.clock = clock_.fn();
    return std::make_unique<CredentialsProvider>(defaultCredentialSources(options_), o);
  }
};

TEST_F(CredentialsProviderTest, RefreshesFiveMinutesBeforeExpiry) {
  FakeEcs ecs("/creds", std::nullopt);
  options_.ecs_endpoint = ecs.url();
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  auto provider = makeProvider();
  auto first = provider->initial();
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_EQ(first->access_key_id, "ECS1");

  clock_.set(kBaseTime + 1h - 6min); // not yet due
  EXPECT_EQ(provider->current()->access_key_id, "ECS1");
  ASSERT_TRUE(provider->waitIdle(5s));
  EXPECT_EQ(ecs.requests(), 1u);

  ecs.expiration = (kBaseTime + 2h).time_since_epoch().count();
  clock_.set(kBaseTime + 1h - 4min); // due: current() still answers, and kicks a refresh
  EXPECT_EQ(provider->current()->access_key_id, "ECS1");
  ASSERT_TRUE(provider->waitIdle(5s));
  const auto refreshed = provider->current();
  ASSERT_TRUE(refreshed.has_value());
  EXPECT_EQ(refreshed->access_key_id, "ECS2");
  EXPECT_EQ(*refreshed->expiration, kBaseTime + 2h);
  EXPECT_EQ(ecs.requests(), 2u);
  EXPECT_EQ(provider->generation(), 2u);
}

TEST_F(CredentialsProviderTest, CurrentNeverWaitsForASlowRefresh) {
  FakeEcs ecs("/creds", std::nullopt);
  options_.ecs_endpoint = ecs.url();
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  auto provider = makeProvider();
  ASSERT_TRUE(provider->initial().has_value());
  ecs.delay_ms = 1000;
  // The refreshed credentials expire later: otherwise the current() after the refresh would
  // start another one, racing the request count below.
  ecs.expiration = (kBaseTime + 2h).time_since_epoch().count();
  clock_.set(kBaseTime + 58min);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(provider->current()->access_key_id, "ECS1");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  ASSERT_TRUE(provider->waitIdle(10s));
  EXPECT_EQ(provider->current()->access_key_id, "ECS2");
  EXPECT_EQ(ecs.requests(), 2u); // 100 calls, one refresh
}

TEST_F(CredentialsProviderTest, FailedRefreshKeepsCredentialsUntilExpiryAndBacksOff) {
  FakeEcs ecs("/creds", std::nullopt);
  FakeImds imds; // would answer, but a refresh sticks to the source that won
  options_.ecs_endpoint = ecs.url();
  options_.imds_endpoint = imds.url();
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/creds";
  auto provider = makeProvider();
  ASSERT_TRUE(provider->initial().has_value());

  ecs.answer_status = 500;
  clock_.set(kBaseTime + 57min);
  EXPECT_EQ(provider->current()->access_key_id, "ECS1");
  ASSERT_TRUE(provider->waitIdle(5s));
  EXPECT_EQ(ecs.requests(), 2u);
  EXPECT_EQ(imds.requests(), 0u);
  EXPECT_EQ(provider->current()->access_key_id, "ECS1"); // still valid; in back-off
  ASSERT_TRUE(provider->waitIdle(5s));
  EXPECT_EQ(ecs.requests(), 2u);

  clock_.set(kBaseTime + 57min + 1s); // back-off (1 s) over: tries again, fails again
  EXPECT_TRUE(provider->current().has_value());
  ASSERT_TRUE(provider->waitIdle(5s));
  EXPECT_EQ(ecs.requests(), 3u);

  clock_.set(kBaseTime + 1h); // expired: nothing to hand out
  EXPECT_FALSE(provider->current().has_value());
  ASSERT_TRUE(provider->waitIdle(5s));
  // Once expired, the whole chain is tried again: IMDS now wins.
  clock_.set(kBaseTime + 1h + 10s);
  const auto fallback = provider->waitFor(5s);
  ASSERT_TRUE(fallback.has_value());
  EXPECT_EQ(fallback->source, "imds");
}

TEST_F(CredentialsProviderTest, StaticCredentialsAreNeverRefreshed) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "s";
  auto provider = makeProvider();
  ASSERT_TRUE(provider->initial().has_value());
  clock_.set(kBaseTime + 24h * 3650);
  EXPECT_EQ(provider->current()->access_key_id, "AKIDENV");
  ASSERT_TRUE(provider->waitIdle(5s));
  EXPECT_EQ(provider->generation(), 1u);
}

TEST_F(CredentialsProviderTest, WaitForFetchesAtStartUpAndTimesOutWhenNothingWorks) {
  FakeImds imds;
  options_.imds_endpoint = imds.url();
  auto provider = makeProvider();
  EXPECT_FALSE(provider->current().has_value()); // kicks the first fetch; never blocks
  const auto got = provider->waitFor(5s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->access_key_id, "IMDS1");

  options_.imds_endpoint = kDeadEndpoint;
  auto empty = makeProvider();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(empty->waitFor(300ms).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(empty->initial().has_value());
}

TEST_F(CredentialsProviderTest, SignsWithWhatTheProviderHolds) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  env_["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  auto provider = makeProvider();
  const auto credentials = provider->waitFor(5s);
  ASSERT_TRUE(credentials.has_value());
  SigV4Request request{"GET", "/", "", {{"Host", "example.amazonaws.com"}}, "", std::nullopt};
  const SystemTime t = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + 12h + 36min;
  // The suite's get-vanilla signature.
  EXPECT_EQ(sign(request, *credentials, "us-east-1", "service", t).signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(CredentialsTimeTest, ParsesAwsTimestamps) {
  const SystemTime t = std::chrono::sys_days{std::chrono::year{2016} / 2 / 25} + 6h + 3min + 31s;
  EXPECT_EQ(parseIso8601("2016-02-25T06:03:31Z"), t);
  EXPECT_EQ(parseIso8601("2016-02-25T06:03:31.250Z"), t + 250ms);
  EXPECT_EQ(parseIso8601("2016-02-25T08:03:31+02:00"), t);
  EXPECT_EQ(parseIso8601("2016-02-25T01:03:31-0500"), t);
  EXPECT_FALSE(parseIso8601("2016-02-30T06:03:31Z").has_value());
  EXPECT_FALSE(parseIso8601("yesterday").has_value());
  EXPECT_FALSE(parseIso8601("2016-02-25T06:03:31Q").has_value());
}

} // namespace
} // namespace ferry::aws
