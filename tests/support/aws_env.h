// For tests that load an AWS sink: every source of the AWS credential chain pointed at
// nothing (no IMDS, no files, no container endpoint), the environment restored afterwards.
// A test then sets AWS_ACCESS_KEY_ID and friends itself when it wants credentials.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::test {

class ScopedAwsEnvironment {
public:
  ScopedAwsEnvironment() {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(name);
    }
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ferry-test/credentials", 1);
    ::setenv("AWS_CONFIG_FILE", "/nonexistent/ferry-test/config", 1);
  }
  ~ScopedAwsEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name, value->c_str(), 1);
      } else {
        ::unsetenv(name);
      }
    }
  }

private:
  static constexpr const char* kNames[] = {"AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN",
                                           "AWS_PROFILE",
                                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                           "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                           "AWS_WEB_IDENTITY_TOKEN_FILE",
                                           "AWS_ROLE_ARN",
                                           "AWS_EC2_METADATA_DISABLED",
                                           "AWS_SHARED_CREDENTIALS_FILE",
                                           "AWS_CONFIG_FILE"};
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

} // namespace ferry::test
