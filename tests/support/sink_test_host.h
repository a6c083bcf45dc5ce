// For tests that drive a sink class directly (not through the ABI): a host that records its
// log lines and counters, and a credentials provider over one static source (or one that
// never has credentials).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/plugin.h"

namespace ferry::test {

struct RecordingHost {
  std::vector<std::string> logs;
  std::map<std::string, uint64_t> counters;
  ferry_host_api api{};

  RecordingHost() {
    api.abi_major = FERRY_PLUGIN_ABI_MAJOR;
    api.abi_minor = FERRY_PLUGIN_ABI_MINOR;
    api.host_context = this;
    api.log = [](void* c, uint32_t, const char* m, size_t n) {
      static_cast<RecordingHost*>(c)->logs.emplace_back(m, n);
    };
    api.counter_add = [](void* c, const char* name, uint64_t v) {
      static_cast<RecordingHost*>(c)->counters[name] += v;
    };
  }
  bool logged(std::string_view text) const {
    for (const auto& l : logs) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

class StaticCredentialSource : public aws::CredentialSource {
public:
  explicit StaticCredentialSource(bool ok) : ok_(ok) {}
  std::string_view name() const override { return "static"; }
  aws::CredentialResult fetch() override {
    if (!ok_) return std::unexpected(aws::CredentialError{.message = "none here"});
    return aws::Credentials{.access_key_id = "AKIDEXAMPLE",
                            .secret_access_key = "secret",
                            .session_token = "",
                            .expiration = std::nullopt,
                            .source = "static"};
  }

private:
  bool ok_;
};

// Credentials AKIDEXAMPLE / secret, or (ok false) none ever.
inline aws::CredentialsProviderPtr staticCredentials(bool ok = true) {
  std::vector<aws::CredentialSourcePtr> sources;
  sources.push_back(std::make_unique<StaticCredentialSource>(ok));
  auto provider = std::make_unique<aws::CredentialsProvider>(std::move(sources));
  (void)provider->initial();
  return provider;
}

} // namespace ferry::test
