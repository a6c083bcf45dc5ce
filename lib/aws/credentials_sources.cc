// The network-free and network credential sources: environment, ECS/EKS container endpoint,
// STS AssumeRoleWithWebIdentity, EC2 IMDSv2. Timeouts: 1 s connect to link-local hosts.
#include <curl/curl.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "credentials_http.h"
#include "ferry/aws/credentials.h"
#include "ferry/aws/sigv4.h"
#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"

namespace ferry::aws {
namespace {

using detail::FetchRequest;
using detail::FetchResponse;
using detail::httpFetch;

constexpr std::string_view kImdsTokenTtlSeconds = "21600"; // 6 h, the documented maximum
constexpr size_t kMaxErrorSnippet = 200;

CredentialResult notConfigured(std::string message) {
  return std::unexpected(
      CredentialError{CredentialError::Kind::kNotConfigured, std::move(message)});
}

CredentialResult failed(std::string message) {
  return std::unexpected(CredentialError{CredentialError::Kind::kFailed, std::move(message)});
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

bool hasLineBreak(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// The start of an error body for a log line. Success bodies are never logged; an error body
// may still echo what was sent (a proxy), so the tokens sent are registered and masked.
std::string snippet(std::string_view body) {
  return obs::logSnippet(body, kMaxErrorSnippet);
}

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}: the document ECS, EKS Pod
// Identity and IMDS all return.
CredentialResult parseCredentialsJson(std::string_view body, std::string_view source) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return failed("response is not a JSON object");
  auto str = [&doc](const char* key) -> std::optional<std::string> {
    const auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  if (auto code = str("Code"); code && *code != "Success") {
    return failed(
        fmt::format("endpoint answered Code={} {}", *code, snippet(str("Message").value_or(""))));
  }
  auto access_key = str("AccessKeyId");
  auto secret_key = str("SecretAccessKey");
  if (!access_key || !secret_key || access_key->empty() || secret_key->empty()) {
    if (auto message = str("message")) return failed(fmt::format("error: {}", snippet(*message)));
    return failed("response lacks AccessKeyId/SecretAccessKey");
  }
  Credentials credentials;
  credentials.access_key_id = std::move(*access_key);
  credentials.secret_access_key = std::move(*secret_key);
  credentials.session_token = str("Token").value_or("");
  credentials.source = std::string(source);
  if (auto expiration = str("Expiration")) {
    credentials.expiration = parseIso8601(*expiration);
    if (!credentials.expiration) {
      return failed(fmt::format("unparsable Expiration \"{}\"", snippet(*expiration)));
    }
  }
  return credentials;
}

// ---- Environment -------------------------------------------------------------------------

class EnvironmentSource : public CredentialSource {
public:
  explicit EnvironmentSource(const CredentialSourceOptions& options) : env_(options.env) {}
  std::string_view name() const override { return "env"; }

  CredentialResult fetch() override {
    auto access_key = env_("AWS_ACCESS_KEY_ID");
    auto secret_key = env_("AWS_SECRET_ACCESS_KEY");
    if (!access_key && !secret_key) return notConfigured("AWS_ACCESS_KEY_ID not set");
    if (!access_key) return failed("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (!secret_key) return failed("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    Credentials credentials;
    credentials.access_key_id = std::move(*access_key);
    credentials.secret_access_key = std::move(*secret_key);
    credentials.session_token = env_("AWS_SESSION_TOKEN").value_or("");
    credentials.source = "env";
    return credentials;
  }

private:
  EnvLookup env_;
};

// ---- ECS / EKS container endpoint ----------------------------------------------------------

// http:// FULL_URIs may only point at this machine or the ECS/EKS agents (the SDKs' rule:
// the Authorization token must not leave the host in clear text).
bool allowedHttpHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" ||
      host == "169.254.170.23" || host == "[fd00:ec2::23]") {
    return true;
  }
  return host.starts_with("127.") &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

struct UrlParts {
  std::string scheme;
  std::string host;
};

std::optional<UrlParts> splitUrl(const std::string& url) {
  struct UrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
  };
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  char* scheme = nullptr;
  char* host = nullptr;
  std::optional<UrlParts> out;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    out = UrlParts{core::toLower(scheme), core::toLower(host)};
  }
  curl_free(scheme);
  curl_free(host);
  return out;
}

class ContainerSource : public CredentialSource {
public:
  explicit ContainerSource(const CredentialSourceOptions& options) : options_(options) {}
  std::string_view name() const override { return "ecs"; }

  CredentialResult fetch() override {
    const EnvLookup& env = options_.env;
    FetchRequest request;
    request.connect_timeout = options_.local_connect_timeout;
    request.total_timeout = options_.local_request_timeout;
    if (auto relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      request.url = options_.ecs_endpoint + (relative->starts_with('/') ? "" : "/") + *relative;
      request.bypass_proxy = true;
    } else if (auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      const auto parts = splitUrl(*full);
      if (!parts) return failed("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid URL");
      if (parts->scheme == "http") {
        if (!allowedHttpHost(parts->host)) {
          return failed(fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI host {} is not allowed "
                                    "over http (https, loopback or the ECS/EKS agent only)",
                                    parts->host));
        }
        request.bypass_proxy = true;
      } else if (parts->scheme != "https") {
        return failed("AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https");
      }
      request.url = *full;
    } else {
      return notConfigured("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
    }

    // The token file wins over the variable (EKS Pod Identity rotates the file).
    std::optional<std::string> token;
    if (auto token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      auto content = readWholeFile(*token_file);
      if (!content) {
        return failed(
            fmt::format("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}", *token_file));
      }
      token = trimmed(*content);
    } else {
      token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token) {
      if (hasLineBreak(*token)) return failed("the container authorization token has a line break");
      obs::addSecret(*token);
      request.headers.push_back(fmt::format("Authorization: {}", *token));
    }
    request.headers.push_back("Accept: application/json");

    auto response = httpFetch(request);
    if (!response) return failed(response.error());
    if (response->status != 200) {
      return failed(fmt::format("{} answered HTTP {}: {}", detail::describeUrl(request.url),
                                response->status, snippet(response->body)));
    }
    return parseCredentialsJson(response->body, "ecs");
  }

private:
  CredentialSourceOptions options_;
};

// ---- STS AssumeRoleWithWebIdentity --------------------------------------------------------

// The character a predefined XML entity stands for; '\0' for any other.
char xmlEntity(std::string_view name) {
  if (name == "amp") return '&';
  if (name == "lt") return '<';
  if (name == "gt") return '>';
  if (name == "quot") return '"';
  if (name == "apos") return '\'';
  return '\0';
}

// The text of the first <name>…</name> inside `xml` (entities decoded); STS's query API
// answers plain XML without namespace prefixes.
std::optional<std::string> xmlElement(std::string_view xml, std::string_view name) {
  const std::string open = fmt::format("<{}>", name);
  const std::string close = fmt::format("</{}>", name);
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t body = start + open.size();
  const size_t end = xml.find(close, body);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view raw = xml.substr(body, end - body);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    const size_t semi = raw.find(';', i);
    const char decoded =
        semi == std::string_view::npos ? '\0' : xmlEntity(raw.substr(i + 1, semi - i - 1));
    if (decoded == '\0') {
      out.push_back('&'); // not an entity we know: kept as it is
      continue;
    }
    out.push_back(decoded);
    i = semi;
  }
  return trimmed(out);
}

class WebIdentitySource : public CredentialSource {
public:
  explicit WebIdentitySource(const CredentialSourceOptions& options) : options_(options) {}
  std::string_view name() const override { return "web-identity"; }

  CredentialResult fetch() override {
    const EnvLookup& env = options_.env;
    auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    auto role_arn = env("AWS_ROLE_ARN");
    if (!token_file && !role_arn) return notConfigured("AWS_WEB_IDENTITY_TOKEN_FILE not set");
    if (!token_file) return failed("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
    if (!role_arn) return failed("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    // Re-read on every fetch: the token is rotated on disk.
    auto content = readWholeFile(*token_file);
    if (!content)
      return failed(fmt::format("cannot read AWS_WEB_IDENTITY_TOKEN_FILE {}", *token_file));
    const std::string token = trimmed(*content);
    if (token.empty()) return failed(fmt::format("{} is empty", *token_file));
    obs::addSecret(token);
    obs::addSecret(uriEncode(token)); // as the form body carries it
    const std::string session_name =
        env("AWS_ROLE_SESSION_NAME")
            .value_or(fmt::format("ferry-{}", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  options_.clock().time_since_epoch())
                                                  .count()));

    FetchRequest request;
    request.method = "POST";
    request.url = options_.sts_endpoint + "/";
    request.connect_timeout = options_.sts_connect_timeout;
    request.total_timeout = options_.sts_request_timeout;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded; charset=utf-8");
    request.headers.push_back("Accept: text/xml");
    request.body = fmt::format(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}"
        "&WebIdentityToken={}",
        uriEncode(*role_arn), uriEncode(session_name), uriEncode(token));

    auto response = httpFetch(request);
    if (!response) return failed(response.error());
    if (response->status != 200) {
      return failed(fmt::format("STS {} answered HTTP {}: {} {}", detail::describeUrl(request.url),
                                response->status, xmlElement(response->body, "Code").value_or(""),
                                snippet(xmlElement(response->body, "Message").value_or(""))));
    }
    const auto section = xmlElement(response->body, "Credentials");
    if (!section) return failed("STS response has no <Credentials>");
    Credentials credentials;
    credentials.access_key_id = xmlElement(*section, "AccessKeyId").value_or("");
    credentials.secret_access_key = xmlElement(*section, "SecretAccessKey").value_or("");
    credentials.session_token = xmlElement(*section, "SessionToken").value_or("");
    credentials.source = "web-identity";
    if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
      return failed("STS response lacks AccessKeyId/SecretAccessKey");
    }
    if (auto expiration = xmlElement(*section, "Expiration")) {
      credentials.expiration = parseIso8601(*expiration);
      if (!credentials.expiration) return failed("STS response has an unparsable Expiration");
    }
    return credentials;
  }

private:
  CredentialSourceOptions options_;
};

// ---- EC2 IMDSv2 ----------------------------------------------------------------------------

class InstanceMetadataSource : public CredentialSource {
public:
  explicit InstanceMetadataSource(const CredentialSourceOptions& options) : options_(options) {}
  std::string_view name() const override { return "imds"; }

  CredentialResult fetch() override {
    if (auto disabled = options_.env("AWS_EC2_METADATA_DISABLED")) {
      if (core::toLower(trimmed(*disabled)) == "true")
        return notConfigured("AWS_EC2_METADATA_DISABLED=true");
    }
    const std::string base = options_.imds_endpoint;

    FetchRequest token_request = request("PUT", base + "/latest/api/token");
    token_request.headers.push_back(
        fmt::format("X-aws-ec2-metadata-token-ttl-seconds: {}", kImdsTokenTtlSeconds));
    auto token = httpFetch(token_request);
    if (!token) return failed(token.error());
    if (token->status != 200) {
      return failed(fmt::format("IMDSv2 token request answered HTTP {}", token->status));
    }
    const std::string session = trimmed(token->body);
    obs::addSecret(session);
    if (session.empty() || hasLineBreak(session)) return failed("IMDSv2 returned a bad token");
    const std::string token_header = fmt::format("X-aws-ec2-metadata-token: {}", session);

    const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
    FetchRequest roles_request = request("GET", roles_url);
    roles_request.headers.push_back(token_header);
    auto roles = httpFetch(roles_request);
    if (!roles) return failed(roles.error());
    if (roles->status == 404) return failed("no IAM role is attached to this instance");
    if (roles->status != 200) {
      return failed(fmt::format("IMDS role list answered HTTP {}", roles->status));
    }
    const std::string role =
        trimmed(std::string_view(roles->body).substr(0, roles->body.find('\n')));
    if (role.empty()) return failed("no IAM role is attached to this instance");

    FetchRequest credentials_request = request("GET", roles_url + uriEncode(role));
    credentials_request.headers.push_back(token_header);
    auto credentials = httpFetch(credentials_request);
    if (!credentials) return failed(credentials.error());
    if (credentials->status != 200) {
      return failed(
          fmt::format("IMDS credentials for role {} answered HTTP {}", role, credentials->status));
    }
    return parseCredentialsJson(credentials->body, "imds");
  }

private:
  FetchRequest request(std::string method, std::string url) const {
    FetchRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.connect_timeout = options_.local_connect_timeout;
    r.total_timeout = options_.local_request_timeout;
    r.bypass_proxy = true;
    return r;
  }

  CredentialSourceOptions options_;
};

} // namespace

CredentialSourcePtr makeEnvironmentSource(const CredentialSourceOptions& options) {
  return std::make_unique<EnvironmentSource>(options.resolve());
}

CredentialSourcePtr makeContainerSource(const CredentialSourceOptions& options) {
  return std::make_unique<ContainerSource>(options.resolve());
}

CredentialSourcePtr makeWebIdentitySource(const CredentialSourceOptions& options) {
  return std::make_unique<WebIdentitySource>(options.resolve());
}

CredentialSourcePtr makeInstanceMetadataSource(const CredentialSourceOptions& options) {
  return std::make_unique<InstanceMetadataSource>(options.resolve());
}

} // namespace ferry::aws
