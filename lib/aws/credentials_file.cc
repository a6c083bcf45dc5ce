// Static keys from the AWS shared files: ~/.aws/credentials ("[name]" sections) and
// ~/.aws/config ("[profile name]", "[default]"), INI as the AWS SDKs read it.
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "ferry/aws/credentials.h"
#include "ferry/core/strings.h"

namespace ferry::aws {
namespace {

using Section = std::map<std::string, std::string>;
using IniFile = std::map<std::string, Section>;

using core::toLower;
using core::trim;

// A ';' or '#' preceded by whitespace starts a comment (keys and tokens have no spaces).
std::string_view stripInlineComment(std::string_view value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') &&
        std::isspace(static_cast<unsigned char>(value[i - 1]))) {
      return trim(value.substr(0, i));
    }
  }
  return value;
}

// Sections and their key/values. Repeated sections merge, later keys win; indented lines
// under a key with an empty value are sub-properties (e.g. "s3 =") and are skipped.
IniFile parseIni(std::string_view text) {
  IniFile out;
  Section* section = nullptr;
  bool in_nested = false;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const bool indented = std::isspace(static_cast<unsigned char>(raw.front()));
    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos) {
        section = nullptr;
        continue;
      }
      section = &out[std::string(trim(line.substr(1, close - 1)))];
      in_nested = false;
      continue;
    }
    if (section == nullptr) continue;
    if (indented && in_nested) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = toLower(trim(line.substr(0, eq)));
    const std::string_view value = stripInlineComment(trim(line.substr(eq + 1)));
    in_nested = value.empty();
    (*section)[key] = std::string(value);
  }
  return out;
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string expandHome(std::string path, const std::optional<std::string>& home) {
  if (home && (path == "~" || path.starts_with("~/"))) path = *home + path.substr(1);
  return path;
}

std::optional<std::string> get(const Section& section, std::string_view key) {
  const auto it = section.find(std::string(key));
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

class SharedFileSource : public CredentialSource {
public:
  explicit SharedFileSource(const CredentialSourceOptions& options) : env_(options.env) {}
  std::string_view name() const override { return "shared-file"; }

  CredentialResult fetch() override {
    const auto home = env_("HOME");
    const auto explicit_profile = env_("AWS_PROFILE");
    const std::string profile = explicit_profile.value_or("default");
    std::string credentials_path;
    if (auto p = env_("AWS_SHARED_CREDENTIALS_FILE"))
      credentials_path = expandHome(*p, home);
    else if (home)
      credentials_path = *home + "/.aws/credentials";
    std::string config_path;
    if (auto p = env_("AWS_CONFIG_FILE"))
      config_path = expandHome(*p, home);
    else if (home)
      config_path = *home + "/.aws/config";

    bool any_file = false;
    std::vector<std::pair<std::string, Section>> candidates; // (where, section)
    if (auto text = credentials_path.empty() ? std::nullopt : readFile(credentials_path)) {
      any_file = true;
      IniFile ini = parseIni(*text);
      if (auto it = ini.find(profile); it != ini.end()) {
        candidates.emplace_back(credentials_path, std::move(it->second));
      }
    }
    if (auto text = config_path.empty() ? std::nullopt : readFile(config_path)) {
      any_file = true;
      IniFile ini = parseIni(*text);
      auto it = ini.find("profile " + profile);
      if (it == ini.end() && profile == "default") it = ini.find("default");
      if (it != ini.end()) candidates.emplace_back(config_path, std::move(it->second));
    }
    if (!any_file) return notConfigured("no shared credentials or config file");

    std::optional<std::string> unsupported;
    for (const auto& [where, section] : candidates) {
      const auto access_key = get(section, "aws_access_key_id");
      const auto secret_key = get(section, "aws_secret_access_key");
      if (access_key && secret_key) {
        Credentials credentials;
        credentials.access_key_id = *access_key;
        credentials.secret_access_key = *secret_key;
        credentials.session_token = get(section, "aws_session_token").value_or("");
        credentials.source = fmt::format("shared-file ({} profile {})", where, profile);
        return credentials;
      }
      if (access_key || secret_key) {
        return failed(fmt::format("profile {} in {} has only one of aws_access_key_id and "
                                  "aws_secret_access_key",
                                  profile, where));
      }
      for (const char* key : {"role_arn", "credential_process", "sso_session", "sso_start_url",
                              "web_identity_token_file"}) {
        if (get(section, key)) {
          unsupported = fmt::format("profile {} in {} uses {}, which ferry does not support "
                                    "(only static keys)",
                                    profile, where, key);
        }
      }
    }
    if (unsupported) return failed(*unsupported);
    if (candidates.empty() && explicit_profile) {
      return failed(fmt::format("AWS_PROFILE={} not found in {} or {}", profile, credentials_path,
                                config_path));
    }
    return notConfigured(fmt::format("profile {} has no static keys", profile));
  }

private:
  static CredentialResult notConfigured(std::string message) {
    return std::unexpected(
        CredentialError{CredentialError::Kind::kNotConfigured, std::move(message)});
  }
  static CredentialResult failed(std::string message) {
    return std::unexpected(CredentialError{CredentialError::Kind::kFailed, std::move(message)});
  }

  EnvLookup env_;
};

} // namespace

CredentialSourcePtr makeSharedFileSource(const CredentialSourceOptions& options) {
  return std::make_unique<SharedFileSource>(options.resolve());
}

} // namespace ferry::aws
