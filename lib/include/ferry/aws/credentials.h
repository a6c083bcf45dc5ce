// AWS credentials: the default chain (env, ECS container endpoint, web identity via STS,
// shared credentials/config files, EC2 IMDSv2) and a provider that refreshes temporary
// credentials 5 minutes before they expire on a background thread, never stalling senders.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ferry::aws {

using SystemTime = std::chrono::system_clock::time_point;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;            // empty for long-term keys
  std::optional<SystemTime> expiration; // unset: the keys do not expire
  std::string source;                   // the source that produced them ("env", "ecs", ...)

  bool expired(SystemTime now) const { return expiration && now >= *expiration; }
};

// Reads an environment variable; unset and empty are both nullopt (as the AWS SDKs treat
// them). Injectable so tests never touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup processEnvironment();

using Clock = std::function<SystemTime()>;

// Parses the ISO 8601 UTC times AWS returns ("2015-08-30T12:36:00Z", with optional
// fractional seconds, or a "+00:00" style offset).
std::optional<SystemTime> parseIso8601(std::string_view text);

// Endpoints, files and timeouts of the built-in sources. Empty strings mean "from the
// environment, else the AWS default" (see resolve()).
struct CredentialSourceOptions {
  EnvLookup env;             // default: processEnvironment()
  Clock clock;               // default: system_clock::now (web identity session names)
  std::string ecs_endpoint;  // env FERRY_AWS_ECS_ENDPOINT, else http://169.254.170.2
  std::string imds_endpoint; // env AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254
  std::string sts_endpoint;  // env AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else regional STS
  std::chrono::milliseconds local_connect_timeout{1000}; // ECS and IMDS (link-local)
  std::chrono::milliseconds local_request_timeout{3000};
  std::chrono::milliseconds sts_connect_timeout{3000};
  std::chrono::milliseconds sts_request_timeout{10000};

  // Fills every empty field from the environment and the AWS defaults.
  CredentialSourceOptions resolve() const;
};

struct CredentialError {
  enum class Kind {
    kNotConfigured, // the source's settings are absent: skipped quietly
    kFailed,        // configured, but it could not produce credentials: logged
  };
  Kind kind = Kind::kFailed;
  std::string message; // never contains a secret
};

using CredentialResult = std::expected<Credentials, CredentialError>;

// One place credentials can come from. fetch() may block on the network (bounded by the
// source's timeouts); it is only called from start-up or the refresh thread.
class CredentialSource {
public:
  virtual ~CredentialSource() = default;
  virtual std::string_view name() const = 0;
  virtual CredentialResult fetch() = 0;
};

using CredentialSourcePtr = std::unique_ptr<CredentialSource>;

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
CredentialSourcePtr makeEnvironmentSource(const CredentialSourceOptions& options);
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on the ECS endpoint) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to loopback / the ECS and EKS
// link-local hosts), Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read
// on every fetch, it rotates) else AWS_CONTAINER_AUTHORIZATION_TOKEN.
CredentialSourcePtr makeContainerSource(const CredentialSourceOptions& options);
// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME] through STS
// AssumeRoleWithWebIdentity (an unsigned query-API POST).
CredentialSourcePtr makeWebIdentitySource(const CredentialSourceOptions& options);
// Static keys of profile AWS_PROFILE (default "default") in AWS_SHARED_CREDENTIALS_FILE
// (~/.aws/credentials), then in AWS_CONFIG_FILE (~/.aws/config, "[profile name]").
CredentialSourcePtr makeSharedFileSource(const CredentialSourceOptions& options);
// EC2 instance role through IMDSv2 (token PUT, role name, role credentials). Disabled by
// AWS_EC2_METADATA_DISABLED=true. No IMDSv1 fallback.
CredentialSourcePtr makeInstanceMetadataSource(const CredentialSourceOptions& options);

// The sources above in SPEC.md's order.
std::vector<CredentialSourcePtr> defaultCredentialSources(const CredentialSourceOptions& options);

// Tries each source in order, first success wins; a source that fails is logged (warn)
// and the next one is tried. Not thread-safe; the provider serialises calls.
class CredentialsChain {
public:
  explicit CredentialsChain(std::vector<CredentialSourcePtr> sources);

  // On failure the message lists why each configured source failed.
  std::expected<Credentials, std::string> resolve();
  // Tries only the source that last succeeded (refreshes stick to it, so a transient
  // failure of e.g. ECS never silently switches to another role); falls back to resolve()
  // when none has succeeded yet.
  std::expected<Credentials, std::string> refresh();

  size_t size() const { return sources_.size(); }

private:
  std::vector<CredentialSourcePtr> sources_;
  std::optional<size_t> last_success_;
};

struct CredentialsProviderOptions {
  Clock clock; // default: system_clock::now
  // Temporary credentials are refreshed this long before they expire.
  std::chrono::seconds refresh_before_expiry{300};
  // After a failed refresh, the next one waits this long (doubling up to the maximum),
  // measured on `clock`.
  std::chrono::seconds retry_initial{1};
  std::chrono::seconds retry_max{60};
};

// Holds the current credentials and refreshes them on its own thread. current() never
// waits on the network: it returns what it has (while not expired) and, when the
// credentials are due for refresh, wakes the refresh thread. Thread-safe.
class CredentialsProvider {
public:
  CredentialsProvider(std::vector<CredentialSourcePtr> sources,
                      CredentialsProviderOptions options = {});
  ~CredentialsProvider();
  CredentialsProvider(const CredentialsProvider&) = delete;
  CredentialsProvider& operator=(const CredentialsProvider&) = delete;

  // The default chain, configured from the process environment.
  static std::unique_ptr<CredentialsProvider>
  createDefault(const CredentialSourceOptions& sources = {},
                CredentialsProviderOptions options = {});

  // Start-up: resolves the chain on the calling thread (blocking) and keeps the result.
  // The error lists why each configured source failed.
  std::expected<Credentials, std::string> initial();

  // Never blocks on the network. nullopt when none are held or they have expired.
  std::optional<Credentials> current();

  // Blocks until usable credentials are held (kicking refreshes) or the timeout passes.
  std::optional<Credentials> waitFor(std::chrono::milliseconds timeout);

  // Blocks until no refresh is running (tests; shutdown paths). False on timeout.
  bool waitIdle(std::chrono::milliseconds timeout);

  // Successful fetches so far (tests, metrics).
  uint64_t generation() const;

private:
  SystemTime now() const { return options_.clock(); }
  bool dueLocked(SystemTime now) const;
  void kickLocked(SystemTime now, bool ignore_backoff);
  void run();
  void installLocked(Credentials credentials);

  CredentialsProviderOptions options_;
  CredentialsChain chain_; // used only by the refresh thread (and initial(), serialised)
  std::mutex chain_mutex_; // serialises chain_ between initial() and the refresh thread

  mutable std::mutex mutex_;
  std::condition_variable cv_;      // wakes the refresh thread
  std::condition_variable done_cv_; // refresh attempt finished
  std::optional<Credentials> credentials_;
  bool refresh_requested_ = false;
  bool refreshing_ = false;
  bool stopping_ = false;
  uint64_t generation_ = 0;
  uint64_t attempts_ = 0;
  std::optional<SystemTime> next_attempt_; // back-off after a failed refresh
  std::chrono::seconds retry_delay_;
  std::thread thread_;
};

using CredentialsProviderPtr = std::unique_ptr<CredentialsProvider>;

} // namespace ferry::aws
