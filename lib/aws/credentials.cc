// The credentials chain (first source that answers wins, failures logged) and the provider
// that refreshes temporary credentials 5 minutes before expiry on its own thread.
#include "ferry/aws/credentials.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "ferry/obs/log.h"
#include "ferry/obs/redact.h"

namespace ferry::aws {
namespace {

constexpr std::string_view kDefaultEcsEndpoint = "http://169.254.170.2";
constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";

bool parseDigits(std::string_view s, size_t pos, size_t count, int& out) {
  if (pos + count > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::string trimSlash(std::string s) {
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

std::string stsEndpointForRegion(const std::optional<std::string>& region) {
  if (!region) return "https://sts.amazonaws.com";
  const std::string_view suffix = region->starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return fmt::format("https://sts.{}.{}", *region, suffix);
}

} // namespace

EnvLookup processEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::optional<SystemTime> parseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM|+HHMM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parseDigits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !parseDigits(text, 5, 2, month) || text[7] != '-' || !parseDigits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !parseDigits(text, 11, 2, hour) ||
      text[13] != ':' || !parseDigits(text, 14, 2, minute) || text[16] != ':' ||
      !parseDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  const std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z" || zone.empty()) {
    // UTC; AWS always sends Z, a bare time is taken as UTC too.
  } else if (zone[0] == '+' || zone[0] == '-') {
    int oh = 0, om = 0;
    const bool colon = zone.size() == 6 && zone[3] == ':';
    if (!parseDigits(zone, 1, 2, oh) || !(colon || zone.size() == 5) ||
        !parseDigits(zone, colon ? 4 : 3, 2, om)) {
      return std::nullopt;
    }
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (zone[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const auto t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                 std::chrono::minutes(minute) + std::chrono::seconds(second) - offset;
  return std::chrono::time_point_cast<SystemTime::duration>(t + fraction);
}

CredentialSourceOptions CredentialSourceOptions::resolve() const {
  CredentialSourceOptions out = *this;
  if (!out.env) out.env = processEnvironment();
  if (!out.clock) out.clock = [] { return std::chrono::system_clock::now(); };
  if (out.ecs_endpoint.empty()) {
    out.ecs_endpoint = out.env("FERRY_AWS_ECS_ENDPOINT").value_or(std::string(kDefaultEcsEndpoint));
  }
  if (out.imds_endpoint.empty()) {
    out.imds_endpoint =
        out.env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultImdsEndpoint));
  }
  if (out.sts_endpoint.empty()) {
    if (auto v = out.env("AWS_ENDPOINT_URL_STS")) {
      out.sts_endpoint = *v;
    } else if (auto g = out.env("AWS_ENDPOINT_URL")) {
      out.sts_endpoint = *g;
    } else {
      auto region = out.env("AWS_REGION");
      if (!region) region = out.env("AWS_DEFAULT_REGION");
      out.sts_endpoint = stsEndpointForRegion(region);
    }
  }
  out.ecs_endpoint = trimSlash(out.ecs_endpoint);
  out.imds_endpoint = trimSlash(out.imds_endpoint);
  out.sts_endpoint = trimSlash(out.sts_endpoint);
  return out;
}

std::vector<CredentialSourcePtr> defaultCredentialSources(const CredentialSourceOptions& options) {
  const CredentialSourceOptions resolved = options.resolve();
  std::vector<CredentialSourcePtr> sources;
  sources.push_back(makeEnvironmentSource(resolved));
  sources.push_back(makeContainerSource(resolved));
  sources.push_back(makeWebIdentitySource(resolved));
  sources.push_back(makeSharedFileSource(resolved));
  sources.push_back(makeInstanceMetadataSource(resolved));
  return sources;
}

// ---- CredentialsChain ------------------------------------------------------------------

CredentialsChain::CredentialsChain(std::vector<CredentialSourcePtr> sources)
    : sources_(std::move(sources)) {}

std::expected<Credentials, std::string> CredentialsChain::resolve() {
  std::string reasons;
  for (size_t i = 0; i < sources_.size(); ++i) {
    CredentialSource& source = *sources_[i];
    CredentialResult result = source.fetch();
    if (result) {
      if (result->source.empty()) result->source = std::string(source.name());
      last_success_ = i;
      return std::move(*result);
    }
    if (result.error().kind == CredentialError::Kind::kFailed) {
      FERRY_LOG_WARN("aws", "AWS credentials source {} failed: {}", source.name(),
                     result.error().message);
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += fmt::format("{}: {}", source.name(), result.error().message);
  }
  return std::unexpected(fmt::format("no AWS credentials found ({})", reasons));
}

std::expected<Credentials, std::string> CredentialsChain::refresh() {
  if (!last_success_) return resolve();
  CredentialSource& source = *sources_[*last_success_];
  CredentialResult result = source.fetch();
  if (result) {
    if (result->source.empty()) result->source = std::string(source.name());
    return std::move(*result);
  }
  return std::unexpected(fmt::format("{}: {}", source.name(), result.error().message));
}

// ---- CredentialsProvider ---------------------------------------------------------------

CredentialsProvider::CredentialsProvider(std::vector<CredentialSourcePtr> sources,
                                         CredentialsProviderOptions options)
    : options_(std::move(options)), chain_(std::move(sources)),
      retry_delay_(options_.retry_initial) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  thread_ = std::thread([this] { run(); });
}

CredentialsProvider::~CredentialsProvider() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  thread_.join();
}

std::unique_ptr<CredentialsProvider>
CredentialsProvider::createDefault(const CredentialSourceOptions& sources,
                                   CredentialsProviderOptions options) {
  return std::make_unique<CredentialsProvider>(defaultCredentialSources(sources),
                                               std::move(options));
}

bool CredentialsProvider::dueLocked(SystemTime now) const {
  if (!credentials_) return true;
  if (!credentials_->expiration) return false;
  return now >= *credentials_->expiration - options_.refresh_before_expiry;
}

void CredentialsProvider::kickLocked(SystemTime now, bool ignore_backoff) {
  if (stopping_ || refreshing_ || refresh_requested_) return;
  if (!ignore_backoff && next_attempt_ && now < *next_attempt_) return;
  refresh_requested_ = true;
  cv_.notify_one();
}

void CredentialsProvider::installLocked(Credentials credentials) {
  const bool source_changed = !credentials_ || credentials_->source != credentials.source;
  if (source_changed) {
    FERRY_LOG_INFO("aws", "using AWS credentials from {}{}", credentials.source,
                   credentials.expiration ? " (temporary, refreshed before expiry)" : "");
  }
  // Masked in every log line from now on: an error body that echoes a signed request
  // (a proxy, S3's SignatureDoesNotMatch) must not print them.
  obs::addSecret(credentials.secret_access_key);
  obs::addSecret(credentials.session_token);
  credentials_ = std::move(credentials);
  ++generation_;
  next_attempt_.reset();
  retry_delay_ = options_.retry_initial;
}

std::expected<Credentials, std::string> CredentialsProvider::initial() {
  std::expected<Credentials, std::string> result;
  {
    std::lock_guard chain_lock(chain_mutex_);
    result = chain_.resolve();
  }
  std::lock_guard lock(mutex_);
  ++attempts_;
  if (result) installLocked(*result);
  done_cv_.notify_all();
  return result;
}

std::optional<Credentials> CredentialsProvider::current() {
  std::lock_guard lock(mutex_);
  const SystemTime t = now();
  if (dueLocked(t)) kickLocked(t, false);
  if (!credentials_ || credentials_->expired(t)) return std::nullopt;
  return credentials_;
}

std::optional<Credentials> CredentialsProvider::waitFor(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (true) {
    const SystemTime t = now();
    if (credentials_ && !credentials_->expired(t)) {
      if (dueLocked(t)) kickLocked(t, false);
      return credentials_;
    }
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Start-up is waiting: try now, whatever the back-off says (no-op if one is running).
    kickLocked(t, true);
    const uint64_t before = attempts_;
    done_cv_.wait_until(lock, deadline, [&] { return stopping_ || attempts_ != before; });
    const bool usable = credentials_ && !credentials_->expired(now());
    if (attempts_ != before && !usable) {
      // That attempt failed: pause a second (real time) before forcing the next one.
      const auto pause =
          std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      done_cv_.wait_until(lock, pause, [&] { return stopping_; });
    }
  }
}

bool CredentialsProvider::waitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return done_cv_.wait_for(lock, timeout, [&] { return !refreshing_ && !refresh_requested_; });
}

uint64_t CredentialsProvider::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void CredentialsProvider::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || refresh_requested_; });
    if (stopping_) return;
    refresh_requested_ = false;
    refreshing_ = true;
    // While the held credentials are valid, refresh from the source that gave them; once
    // they have expired (or there are none), the whole chain is tried again.
    const bool have_valid = credentials_ && !credentials_->expired(now());
    lock.unlock();
    std::expected<Credentials, std::string> result;
    {
      std::lock_guard chain_lock(chain_mutex_);
      result = have_valid ? chain_.refresh() : chain_.resolve();
    }
    lock.lock();
    refreshing_ = false;
    ++attempts_;
    if (result) {
      installLocked(std::move(*result));
    } else {
      FERRY_LOG_WARN("aws", "refreshing AWS credentials failed (retry in {}s): {}",
                     retry_delay_.count(), result.error());
      next_attempt_ = now() + retry_delay_;
      retry_delay_ = std::min(retry_delay_ * 2, options_.retry_max);
    }
    done_cv_.notify_all();
  }
}

} // namespace ferry::aws
