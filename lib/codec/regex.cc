// The two engines behind codec::Regex. RE2 runs every pattern it can (linear time). The rest
// runs on PCRE2: JIT-compiled, with a match limit and a depth limit so that a pattern that
// backtracks badly on some line gives up (no match, counted, logged once) instead of stalling
// the pipeline. Both read UTF-8 and tolerate invalid bytes; `$` means the end of the text on
// both (PCRE2_DOLLAR_ENDONLY), so a pattern means the same whichever engine runs it.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re2/re2.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "ferry/codec/regex.h"
#include "ferry/obs/log.h"

namespace ferry::codec {

struct Regex::Impl {
  RegexEngine engine = RegexEngine::kRe2;
  std::string pattern;
  std::string reason;
  std::unique_ptr<re2::RE2> re2;
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  int groups = 0;
  std::vector<NamedGroup> named;
  mutable std::atomic<uint64_t> limit_hits{0};

  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }

  bool re2Search(std::string_view text, std::span<std::string_view> out) const;
  bool pcre2Search(std::string_view text, std::span<std::string_view> out) const;
};

namespace {

thread_local int quiet_engine_log = 0; // QuietRegexEngineLog scopes alive on this thread

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0)
    return fmt::format("error {}", code);
  return reinterpret_cast<const char*>(buffer);
}

// Each thread keeps one match block, grown to the largest pattern it has run.
struct MatchData {
  pcre2_match_data* data = nullptr;
  uint32_t pairs = 0;
  ~MatchData() { pcre2_match_data_free(data); }
  pcre2_match_data* get(uint32_t need) {
    if (need > pairs) {
      pcre2_match_data_free(data);
      data = pcre2_match_data_create(need, nullptr);
      pairs = data != nullptr ? need : 0;
    }
    return data;
  }
};

std::expected<void, std::string> compileRe2(Regex::Impl& impl) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  impl.re2 = std::make_unique<re2::RE2>(impl.pattern, options);
  if (!impl.re2->ok()) return std::unexpected(impl.re2->error());
  impl.groups = impl.re2->NumberOfCapturingGroups();
  for (const auto& [index, name] : impl.re2->CapturingGroupNames())
    impl.named.push_back({index, name});
  return {};
}

std::expected<void, std::string> compilePcre2(Regex::Impl& impl) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl.code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(impl.pattern.data()), impl.pattern.size(),
                            PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &error,
                            &offset, nullptr);
  if (impl.code == nullptr) {
    return std::unexpected(fmt::format("{} (at offset {})", pcre2Message(error), offset));
  }
  // Without JIT (an unsupported CPU) the interpreter runs, under the same limits.
  pcre2_jit_compile(impl.code, PCRE2_JIT_COMPLETE);
  impl.context = pcre2_match_context_create(nullptr);
  if (impl.context == nullptr) return std::unexpected("out of memory");
  pcre2_set_match_limit(impl.context, Regex::kMatchLimit);
  pcre2_set_depth_limit(impl.context, Regex::kDepthLimit);
  uint32_t captures = 0;
  pcre2_pattern_info(impl.code, PCRE2_INFO_CAPTURECOUNT, &captures);
  impl.groups = static_cast<int>(captures);
  uint32_t count = 0;
  uint32_t entry = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(impl.code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(impl.code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
  pcre2_pattern_info(impl.code, PCRE2_INFO_NAMETABLE, static_cast<void*>(&table));
  for (uint32_t k = 0; k < count; ++k) {
    // Each entry: the group number in two bytes, then the name, NUL-terminated.
    const PCRE2_SPTR e = table + static_cast<size_t>(k) * entry;
    impl.named.push_back({(e[0] << 8) | e[1], reinterpret_cast<const char*>(e + 2)});
  }
  return {};
}

} // namespace

bool Regex::Impl::re2Search(std::string_view text, std::span<std::string_view> out) const {
  const re2::StringPiece subject(text.data(), text.size());
  if (out.empty()) return re2->Match(subject, 0, subject.size(), re2::RE2::UNANCHORED, nullptr, 0);
  // Up to 32 groups on the stack; more is unusual enough for a heap vector.
  re2::StringPiece fixed[33];
  std::vector<re2::StringPiece> heap;
  re2::StringPiece* sub = fixed;
  const int n = std::min(static_cast<int>(out.size()), groups + 1);
  if (n > 33) {
    heap.resize(static_cast<size_t>(n));
    sub = heap.data();
  }
  if (!re2->Match(subject, 0, subject.size(), re2::RE2::UNANCHORED, sub, n)) return false;
  for (size_t k = 0; k < out.size(); ++k) {
    out[k] = static_cast<int>(k) < n && sub[k].data() != nullptr
                 ? std::string_view(sub[k].data(), sub[k].size())
                 : std::string_view();
  }
  return true;
}

bool Regex::Impl::pcre2Search(std::string_view text, std::span<std::string_view> out) const {
  thread_local MatchData tls;
  pcre2_match_data* md = tls.get(static_cast<uint32_t>(groups) + 1);
  if (md == nullptr) return false;
  const char* subject = text.data() != nullptr ? text.data() : "";
  const int rc =
      pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject), text.size(), 0, 0, md, context);
  if (rc < 0) {
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      if (limit_hits.fetch_add(1, std::memory_order_relaxed) == 0) {
        obs::logMessage(obs::LogLevel::kWarn, "regex",
                        fmt::format("regex \"{}\" gave up on a {}-byte text ({}): counted as no "
                                    "match; later ones are counted, not logged",
                                    pattern, text.size(), pcre2Message(rc)));
      }
    }
    return false;
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
  for (size_t k = 0; k < out.size(); ++k) {
    const bool set = static_cast<int>(k) <= groups && ovector[2 * k] != PCRE2_UNSET;
    out[k] = set ? std::string_view(subject + ovector[2 * k], ovector[2 * k + 1] - ovector[2 * k])
                 : std::string_view();
  }
  return true;
}

QuietRegexEngineLog::QuietRegexEngineLog() {
  ++quiet_engine_log;
}
QuietRegexEngineLog::~QuietRegexEngineLog() {
  --quiet_engine_log;
}

std::expected<Regex, std::string> Regex::compile(std::string_view pattern,
                                                 const RegexOptions& options) {
  auto plan = planRegex(pattern);
  if (!plan) return std::unexpected(plan.error());
  auto impl = std::make_unique<Impl>();
  impl->pattern = std::move(plan->pattern);
  impl->reason = std::move(plan->pcre2_reason);
  if (impl->reason.empty()) {
    if (auto r = compileRe2(*impl); !r) return std::unexpected(r.error());
  } else {
    impl->engine = RegexEngine::kPcre2;
    if (auto r = compilePcre2(*impl); !r) return std::unexpected(r.error());
    if (options.log_engine && quiet_engine_log == 0) {
      obs::logMessage(obs::LogLevel::kInfo, "regex",
                      fmt::format("regex \"{}\" uses {}, which RE2 cannot run: using PCRE2 "
                                  "(backtracking, match limit {})",
                                  pattern, impl->reason, kMatchLimit));
    }
  }
  std::sort(impl->named.begin(), impl->named.end(),
            [](const NamedGroup& a, const NamedGroup& b) { return a.index < b.index; });
  return Regex(std::move(impl));
}

Regex::Regex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

bool Regex::search(std::string_view text) const {
  return search(text, {});
}

bool Regex::search(std::string_view text, std::span<std::string_view> groups) const {
  return impl_->engine == RegexEngine::kRe2 ? impl_->re2Search(text, groups)
                                            : impl_->pcre2Search(text, groups);
}

int Regex::groupCount() const {
  return impl_->groups;
}
const std::vector<Regex::NamedGroup>& Regex::namedGroups() const {
  return impl_->named;
}
RegexEngine Regex::engine() const {
  return impl_->engine;
}
const std::string& Regex::fallbackReason() const {
  return impl_->reason;
}
uint64_t Regex::limitHits() const {
  return impl_->limit_hits.load(std::memory_order_relaxed);
}

} // namespace ferry::codec
