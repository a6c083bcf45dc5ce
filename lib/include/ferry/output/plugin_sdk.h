// The C++ side of a sink plugin: implement ferry::sdk::Sink, declare the option table, and
// FERRY_PLUGIN_DEFINE generates every ferry_on_* export with the boundary rules applied once
// for all plugins (no exception crosses it; errors become codes and messages).
// FERRY_PLUGIN_DEFINE_CHECKED also names the plugin's option check (ferry_on_check): the
// function its factory validates options with, so `ferry validate` refuses what start-up would.
// Only plugin sources include this file.
#pragma once

#include <rapidjson/document.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ferry/plugin.h"
#include "ferry/sink/options.h"

namespace ferry::sdk {

// Base of a plugin's requests; the host only ever sees the pointer.
class Request {
public:
  virtual ~Request() = default;
  // Bytes this request keeps in memory (its body, and anything kept to rebuild it): the host
  // counts them in the output's buffer.max_bytes (ferry_on_request_bytes). The records it
  // was encoded from are the host's and not included.
  virtual uint64_t heldBytes() const { return 0; }
  // What became of each record it was encoded from (ferry_on_request_records): one
  // ferry_record_state per record, in the order they were offered. False: it cannot say
  // (the host then knows only the counts a verdict gives).
  virtual bool recordStates(std::span<uint8_t> /*states*/) const { return false; }
};
using RequestPtr = std::unique_ptr<Request>;

// Logging and counters through the host.
class Host {
public:
  explicit Host(const ferry_host_api* api) : api_(api) {}
  template <typename... Args>
  void log(ferry_log_level level, fmt::format_string<Args...> f, Args&&... args) const {
    const std::string s = fmt::format(f, std::forward<Args>(args)...);
    api_->log(api_->host_context, level, s.data(), s.size());
  }
  void count(const char* name, uint64_t n = 1) const {
    api_->counter_add(api_->host_context, name, n);
  }
  // Inside encode(): the partition key of the records offered (limits.partition_template);
  // empty without one, or from a host older than ABI 1.5. Valid until encode() returns.
  std::string_view partition() const {
    if (api_->abi_minor < 5 || api_->encode_partition == nullptr) return {};
    const char* key = nullptr;
    const size_t n = api_->encode_partition(api_->host_context, &key);
    return key ? std::string_view(key, n) : std::string_view();
  }

private:
  const ferry_host_api* api_;
};

// The validated options the host passes to ferry_on_init, read through the plugin's own
// option table (defaults and bounds stated once, there): see ferry/sink/options.h.
using Options = sink::PluginOptions;

inline void setMessage(ferry_plugin_verdict& v, std::string_view text) {
  const size_t n = std::min(text.size(), sizeof v.message - 1);
  std::memcpy(v.message, text.data(), n);
  v.message[n] = '\0';
}

inline void setError(char* error, size_t cap, std::string_view text) {
  if (error == nullptr || cap == 0) return;
  const size_t n = std::min(text.size(), cap - 1);
  std::memcpy(error, text.data(), n);
  error[n] = '\0';
}

// Runs `body` (it returns an export's 0 or 1) so that no exception crosses the C boundary:
// one thrown becomes 1 with its message in `error`.
template <typename F> int guarded(char* error, size_t error_cap, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    setError(error, error_cap, e.what());
    return 1;
  } catch (...) {
    setError(error, error_cap, "unknown error");
    return 1;
  }
}

class Sink {
public:
  virtual ~Sink() = default;
  // Encodes a prefix of `records` (sets consumed >= 1, and dropped for unencodable ones).
  virtual std::expected<RequestPtr, std::string>
  encode(std::span<const ferry_plugin_record> records, size_t& consumed, size_t& dropped) = 0;
  // HTTP sinks: describe the next attempt.
  virtual std::expected<void, std::string> httpRequest(Request&, ferry_http_request&) {
    return std::unexpected("not an HTTP sink");
  }
  virtual void httpResponse(Request&, const ferry_http_response&, ferry_plugin_verdict& v) {
    v.kind = FERRY_VERDICT_DROP;
    setMessage(v, "not an HTTP sink");
  }
  // Local sinks: deliver.
  virtual void deliver(Request&, ferry_plugin_verdict& v) {
    v.kind = FERRY_VERDICT_DROP;
    setMessage(v, "not a local sink");
  }
};

// Parses the options JSON the host passes (ferry_on_init, ferry_on_check); false with the
// reason in `error` when it is not a JSON object.
inline bool parseOptionsJson(rapidjson::Document& doc, const char* json, size_t len, char* error,
                             size_t error_cap) {
  doc.Parse(json, len);
  if (doc.HasParseError() || !doc.IsObject()) {
    setError(error, error_cap, "options are not a JSON object");
    return false;
  }
  return true;
}

// ferry_on_check for `check`, a function of the options returning std::expected<T, std::string>
// (typically the plugin's own parseConfig, which its factory calls too).
template <typename Check>
int checkOptions(const ferry_plugin_descriptor& descriptor, Check&& check, const char* json,
                 size_t len, char* error, size_t error_cap) {
  return guarded(error, error_cap, [&]() -> int {
    rapidjson::Document doc;
    if (!parseOptionsJson(doc, json, len, error, error_cap)) return 1;
    auto ok = check(Options(doc, descriptor));
    if (!ok) {
      setError(error, error_cap, ok.error());
      return 1;
    }
    return 0;
  });
}

// The check of a plugin whose options need nothing beyond their table's types and bounds.
inline std::expected<void, std::string> noCheck(const Options& options) {
  return options.check();
}

using SinkFactory = std::expected<std::unique_ptr<Sink>, std::string> (*)(
    const Host& host, const Options& options, ferry_plugin_limits& limits);

// What the exports hold per instance.
struct Instance {
  Host host;
  std::unique_ptr<Sink> sink;
};

} // namespace ferry::sdk

// Generates the ABI exports for a plugin. `descriptor` is a ferry_plugin_descriptor with
// static storage; `factory` a ferry::sdk::SinkFactory; `check` a function of
// const ferry::sdk::Options& returning std::expected<T, std::string> that opens, starts and
// sends nothing (ferry_on_check).
#define FERRY_PLUGIN_DEFINE(descriptor, factory)                                                   \
  FERRY_PLUGIN_DEFINE_CHECKED(descriptor, factory, ::ferry::sdk::noCheck)
#define FERRY_PLUGIN_DEFINE_CHECKED(descriptor, factory, check)                                    \
  extern "C" {                                                                                     \
  FERRY_PLUGIN_EXPORT int ferry_on_check(const char* config_json, size_t config_len, char* error,  \
                                         size_t error_cap) {                                       \
    return ::ferry::sdk::checkOptions(descriptor, check, config_json, config_len, error,           \
                                      error_cap);                                                  \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor* ferry_on_describe(void) {                     \
    return &(descriptor);                                                                          \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT int ferry_on_init(const ferry_host_api* host, const char* config_json,       \
                                        size_t config_len, ferry_plugin_instance** instance,       \
                                        ferry_plugin_limits* limits, char* error,                  \
                                        size_t error_cap) {                                        \
    return ::ferry::sdk::guarded(error, error_cap, [&]() -> int {                                  \
      if (host == nullptr || host->abi_major != FERRY_PLUGIN_ABI_MAJOR) {                          \
        ::ferry::sdk::setError(error, error_cap, "host speaks another plugin ABI");                \
        return 1;                                                                                  \
      }                                                                                            \
      rapidjson::Document doc;                                                                     \
      if (!::ferry::sdk::parseOptionsJson(doc, config_json, config_len, error, error_cap))         \
        return 1;                                                                                  \
      auto inst = std::make_unique<::ferry::sdk::Instance>(                                        \
          ::ferry::sdk::Instance{::ferry::sdk::Host(host), nullptr});                              \
      *limits = ferry_plugin_limits{};                                                             \
      auto sink = (factory)(inst->host, ::ferry::sdk::Options(doc, descriptor), *limits);          \
      if (!sink) {                                                                                 \
        ::ferry::sdk::setError(error, error_cap, sink.error());                                    \
        return 1;                                                                                  \
      }                                                                                            \
      inst->sink = std::move(*sink);                                                               \
      *instance = reinterpret_cast<ferry_plugin_instance*>(inst.release());                        \
      return 0;                                                                                    \
    });                                                                                            \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT void ferry_on_destroy(ferry_plugin_instance* instance) {                     \
    delete reinterpret_cast<::ferry::sdk::Instance*>(instance);                                    \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT int ferry_on_encode(ferry_plugin_instance* instance,                         \
                                          const ferry_plugin_record* records, size_t count,        \
                                          size_t* consumed, size_t* dropped,                       \
                                          ferry_plugin_request** request, char* error,             \
                                          size_t error_cap) {                                      \
    return ::ferry::sdk::guarded(error, error_cap, [&]() -> int {                                  \
      auto* inst = reinterpret_cast<::ferry::sdk::Instance*>(instance);                            \
      *consumed = 0;                                                                               \
      *dropped = 0;                                                                                \
      auto r = inst->sink->encode(std::span(records, count), *consumed, *dropped);                 \
      if (!r) {                                                                                    \
        ::ferry::sdk::setError(error, error_cap, r.error());                                       \
        return 1;                                                                                  \
      }                                                                                            \
      *request = reinterpret_cast<ferry_plugin_request*>(r->release());                            \
      return 0;                                                                                    \
    });                                                                                            \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT int ferry_on_http_request(ferry_plugin_instance* instance,                   \
                                                ferry_plugin_request* request,                     \
                                                ferry_http_request* out, char* error,              \
                                                size_t error_cap) {                                \
    return ::ferry::sdk::guarded(error, error_cap, [&]() -> int {                                  \
      auto* inst = reinterpret_cast<::ferry::sdk::Instance*>(instance);                            \
      auto r = inst->sink->httpRequest(*reinterpret_cast<::ferry::sdk::Request*>(request), *out);  \
      if (!r) {                                                                                    \
        ::ferry::sdk::setError(error, error_cap, r.error());                                       \
        return 1;                                                                                  \
      }                                                                                            \
      return 0;                                                                                    \
    });                                                                                            \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT void ferry_on_http_response(ferry_plugin_instance* instance,                 \
                                                  ferry_plugin_request* request,                   \
                                                  const ferry_http_response* response,             \
                                                  ferry_plugin_verdict* verdict) {                 \
    try {                                                                                          \
      auto* inst = reinterpret_cast<::ferry::sdk::Instance*>(instance);                            \
      inst->sink->httpResponse(*reinterpret_cast<::ferry::sdk::Request*>(request), *response,      \
                               *verdict);                                                          \
    } catch (...) {                                                                                \
      verdict->kind = FERRY_VERDICT_RETRY;                                                         \
      ::ferry::sdk::setMessage(*verdict, "plugin error while judging the response");               \
    }                                                                                              \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT void ferry_on_deliver(ferry_plugin_instance* instance,                       \
                                            ferry_plugin_request* request,                         \
                                            ferry_plugin_verdict* verdict) {                       \
    try {                                                                                          \
      auto* inst = reinterpret_cast<::ferry::sdk::Instance*>(instance);                            \
      inst->sink->deliver(*reinterpret_cast<::ferry::sdk::Request*>(request), *verdict);           \
    } catch (...) {                                                                                \
      verdict->kind = FERRY_VERDICT_RETRY;                                                         \
      ::ferry::sdk::setMessage(*verdict, "plugin error while delivering");                         \
    }                                                                                              \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT void ferry_on_request_free(ferry_plugin_instance*,                           \
                                                 ferry_plugin_request* request) {                  \
    delete reinterpret_cast<::ferry::sdk::Request*>(request);                                      \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT uint64_t ferry_on_request_bytes(ferry_plugin_instance*,                      \
                                                      const ferry_plugin_request* request) {       \
    return reinterpret_cast<const ::ferry::sdk::Request*>(request)->heldBytes();                   \
  }                                                                                                \
  FERRY_PLUGIN_EXPORT int ferry_on_request_records(ferry_plugin_instance*,                         \
                                                   const ferry_plugin_request* request,            \
                                                   uint8_t* states, size_t count) {                \
    try {                                                                                          \
      return reinterpret_cast<const ::ferry::sdk::Request*>(request)->recordStates(                \
                 std::span<uint8_t>(states, count))                                                \
                 ? 0                                                                               \
                 : 1;                                                                              \
    } catch (...) {                                                                                \
      return 1;                                                                                    \
    }                                                                                              \
  }                                                                                                \
  }
