// Masking for ferry's log (see redact.h). Names are found case-insensitively in a lower-cased
// copy (ASCII only, so offsets match the original); registered secrets match exactly.
#include "ferry/obs/redact.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <utility>
#include <vector>

#include "ferry/core/strings.h"

namespace ferry::obs {
namespace {

constexpr size_t kKeptFirst = 64;  // a config's secrets: registered first, kept for good
constexpr size_t kKeptRecent = 64; // refreshed credentials: the newest replace the oldest
// How far past a snippet's limit a secret may start and still be masked before the cut.
constexpr size_t kSnippetLookahead = 4096;

// Names whose value is a credential, lower case, and how they are written:
//  - header names take "Name: value" or "name=value" (a query string);
//  - config and AWS document names only take "name=value", a quoted JSON key
//    ("SessionToken": "v") or an XML element (<SecretAccessKey>v<), so that ferry's own
//    messages about an option ("api_key: required") stay readable.
// "authorization" also covers Proxy-Authorization; its value has spaces and commas
// (AWS4-HMAC-SHA256 Credential=..., Signature=...), so it runs to the end of the field.
struct CredentialName {
  std::string_view name;
  bool header;
  bool spaced_value;
};
constexpr std::array<CredentialName, 12> kCredentialNames = {{
    {"dd-api-key", true, false},
    {"dd-application-key", true, false},
    {"x-amz-security-token", true, false},
    {"x-aws-ec2-metadata-token", true, false},
    {"authorization", true, true},
    {"api_key", false, false},
    {"shared_key", false, false},
    {"aws_secret_access_key", false, false},
    {"aws_session_token", false, false},
    {"secretaccesskey", false, false},
    {"sessiontoken", false, false},
    {"webidentitytoken", false, false},
}};

std::mutex g_mu;
std::vector<std::string> g_secrets; // [0, kKeptFirst) first ones, then the recent ones

using Range = std::pair<size_t, size_t>; // [begin, end) of text to mask

bool isQuote(char c) {
  return c == '"' || c == '\'';
}

// After `name` found at `at`: the separator its kind allows, then the value; its range.
void maskValueAfter(std::string_view text, size_t at, const CredentialName& name,
                    std::vector<Range>& out) {
  size_t i = at + name.name.size();
  auto skipBlanks = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
      ++i;
  };
  const bool quoted_key =
      at > 0 && isQuote(text[at - 1]) && i < text.size() && text[i] == text[at - 1];
  const bool xml = at > 0 && text[at - 1] == '<' && i < text.size() && text[i] == '>';
  if (quoted_key) ++i;
  if (!xml) {
    skipBlanks();
    if (i >= text.size()) return;
    const bool colon_ok = name.header || quoted_key;
    if (text[i] != '=' && !(colon_ok && text[i] == ':')) return;
  }
  ++i;
  skipBlanks();
  char quote = 0;
  if (i < text.size() && isQuote(text[i])) quote = text[i++];
  const size_t begin = i;
  const std::string_view stops = quote != 0          ? std::string_view(&quote, 1)
                                 : name.spaced_value ? std::string_view("\r\n\"'&<>;")
                                                     : std::string_view("\r\n\"'&<>;, \t})]");
  const size_t end = std::min(text.find_first_of(stops, begin), text.size());
  if (end > begin) out.emplace_back(begin, end);
}

void findFields(std::string_view text, std::vector<Range>& out) {
  // Every credential name holds one of these words: most lines have none, and cost no copy.
  if (!core::icontains(text, "key") && !core::icontains(text, "token") &&
      !core::icontains(text, "authorization"))
    return;
  const std::string lower = core::toLower(text);
  for (const auto& name : kCredentialNames) {
    for (size_t at = lower.find(name.name); at != std::string::npos;
         at = lower.find(name.name, at + 1)) {
      maskValueAfter(text, at, name, out);
    }
  }
}

void findSecrets(std::string_view text, std::span<const std::string> secrets,
                 std::vector<Range>& out) {
  for (const auto& secret : secrets) {
    if (secret.size() < kMinSecretLength) continue;
    for (size_t at = text.find(secret); at != std::string_view::npos;
         at = text.find(secret, at + 1)) {
      out.emplace_back(at, at + secret.size());
    }
    // A secret cut short by an earlier truncation: its beginning at the very end of the text.
    for (size_t k = std::min(secret.size() - 1, text.size()); k >= kMinSecretLength; --k) {
      if (text.ends_with(std::string_view(secret).substr(0, k))) {
        out.emplace_back(text.size() - k, text.size());
        break;
      }
    }
  }
}

} // namespace

void addSecret(std::string_view value) {
  if (value.size() < kMinSecretLength) return;
  std::lock_guard lock(g_mu);
  if (std::find(g_secrets.begin(), g_secrets.end(), value) != g_secrets.end()) return;
  if (g_secrets.size() >= kKeptFirst + kKeptRecent) g_secrets.erase(g_secrets.begin() + kKeptFirst);
  g_secrets.emplace_back(value);
}

std::string redact(std::string_view text, std::span<const std::string> secrets) {
  std::vector<Range> ranges;
  findFields(text, ranges);
  findSecrets(text, secrets, ranges);
  if (ranges.empty()) return std::string(text);
  std::sort(ranges.begin(), ranges.end());
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& [begin, end] : ranges) {
    if (end <= pos) continue; // inside a range already masked
    if (begin >= pos) {
      out.append(text.substr(pos, begin - pos));
      out.append(kMask);
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string redact(std::string_view text) {
  std::lock_guard lock(g_mu);
  return redact(text, g_secrets);
}

std::string logSnippet(std::string_view text, size_t max_chars) {
  const bool cut = text.size() > max_chars + kSnippetLookahead;
  std::string masked = redact(text.substr(0, max_chars + kSnippetLookahead));
  for (char& c : masked) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = ' ';
  }
  std::string out(core::trim(masked));
  if (out.size() > max_chars || cut) {
    out.resize(std::min(out.size(), max_chars));
    out = std::string(core::trim(out)) + "...";
  }
  return out;
}

} // namespace ferry::obs
