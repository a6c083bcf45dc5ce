// libcurl, loaded on first use (issue 18: leaner at rest). Debian's libcurl4 brings some
// thirty libraries with it (GnuTLS, Kerberos, LDAP, libssh2, RTMP...), ~5 MB of RSS once
// mapped and relocated, before a request is made. So neither the daemon nor a plugin links
// it: libferry defines here the few curl_* functions it calls, and the first call dlopens
// libcurl.so.4 and forwards to it. A configuration with no HTTP output, or one that has not
// sent yet, never maps it.
//
// These definitions are not exported: the executable has no shared library that references
// them, and the plugins hide libferry's symbols, so libcurl's own calls stay within libcurl.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <mutex>

#include "ferry/obs/log.h"

namespace {

void* library() {
  static std::once_flag once;
  static void* handle = nullptr;
  std::call_once(once, [] {
    handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      ferry::obs::logMessage(ferry::obs::LogLevel::kError, "http",
                             std::string("cannot load libcurl: ") + (why ? why : "unknown"));
    }
  });
  return handle;
}

// The real function NAME, or nullptr when libcurl cannot be loaded.
template <typename Fn> Fn real(const char* name) {
  void* h = library();
  return h != nullptr ? reinterpret_cast<Fn>(dlsym(h, name)) : nullptr;
}

#define FERRY_CURL_REAL(name) static const auto fn = real<decltype(&::name)>(#name)

// An option's argument type is given by its number's range (curl.h's CURLOPTTYPE_*); the
// same ranges hold for CURLMOPT_*.
template <typename Fn, typename Handle, typename Option>
auto forwardOption(Fn fn, Handle h, Option option, va_list ap) {
  const long n = static_cast<long>(option);
  if (n < CURLOPTTYPE_OBJECTPOINT) return fn(h, option, va_arg(ap, long));
  if (n < CURLOPTTYPE_FUNCTIONPOINT) return fn(h, option, va_arg(ap, void*));
  if (n < CURLOPTTYPE_OFF_T) return fn(h, option, va_arg(ap, void (*)()));
  if (n < CURLOPTTYPE_BLOB) return fn(h, option, va_arg(ap, curl_off_t));
  return fn(h, option, va_arg(ap, void*));
}

} // namespace

// curl.h declares the setopt/getinfo functions with an enum as the last named parameter, so
// their signatures cannot change. clang (clang-tidy in CI) warns that an enum may be
// promoted before `...`; curl's option, info and multi-option enums are int-sized (their
// values reach 40000+, and curl reads them the same way), so va_start is right for them.
#ifdef __clang__
#pragma clang diagnostic ignored "-Wvarargs"
#endif

extern "C" {

CURLcode curl_global_init(long flags) {
  FERRY_CURL_REAL(curl_global_init);
  return fn ? fn(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() {
  FERRY_CURL_REAL(curl_easy_init);
  return fn ? fn() : nullptr;
}

void curl_easy_cleanup(CURL* e) {
  FERRY_CURL_REAL(curl_easy_cleanup);
  if (fn) fn(e);
}

void curl_easy_reset(CURL* e) {
  FERRY_CURL_REAL(curl_easy_reset);
  if (fn) fn(e);
}

CURLcode curl_easy_setopt(CURL* e, CURLoption option, ...) {
  FERRY_CURL_REAL(curl_easy_setopt);
  if (!fn) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  const CURLcode rc = forwardOption(fn, e, option, ap);
  va_end(ap);
  return rc;
}

CURLcode curl_easy_getinfo(CURL* e, CURLINFO info, ...) {
  FERRY_CURL_REAL(curl_easy_getinfo);
  if (!fn) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*); // every CURLINFO_* takes one pointer
  va_end(ap);
  return fn(e, info, out);
}

CURLcode curl_easy_perform(CURL* e) {
  FERRY_CURL_REAL(curl_easy_perform);
  return fn ? fn(e) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  FERRY_CURL_REAL(curl_easy_strerror);
  return fn ? fn(code) : "libcurl could not be loaded";
}

void curl_free(void* p) {
  FERRY_CURL_REAL(curl_free);
  if (fn) fn(p);
}

curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  FERRY_CURL_REAL(curl_slist_append);
  return fn ? fn(list, s) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  FERRY_CURL_REAL(curl_slist_free_all);
  if (fn) fn(list);
}

CURLM* curl_multi_init() {
  FERRY_CURL_REAL(curl_multi_init);
  return fn ? fn() : nullptr;
}

CURLMcode curl_multi_cleanup(CURLM* m) {
  FERRY_CURL_REAL(curl_multi_cleanup);
  return fn ? fn(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM* m, CURL* e) {
  FERRY_CURL_REAL(curl_multi_add_handle);
  return fn ? fn(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM* m, CURL* e) {
  FERRY_CURL_REAL(curl_multi_remove_handle);
  return fn ? fn(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM* m, int* running) {
  FERRY_CURL_REAL(curl_multi_perform);
  return fn ? fn(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM* m, curl_waitfd extra[], unsigned n, int timeout_ms, int* ret) {
  FERRY_CURL_REAL(curl_multi_poll);
  return fn ? fn(m, extra, n, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}

CURLMsg* curl_multi_info_read(CURLM* m, int* queued) {
  FERRY_CURL_REAL(curl_multi_info_read);
  return fn ? fn(m, queued) : nullptr;
}

CURLMcode curl_multi_setopt(CURLM* m, CURLMoption option, ...) {
  FERRY_CURL_REAL(curl_multi_setopt);
  if (!fn) return CURLM_INTERNAL_ERROR;
  va_list ap;
  va_start(ap, option);
  const CURLMcode rc = forwardOption(fn, m, option, ap);
  va_end(ap);
  return rc;
}

CURLMcode curl_multi_wakeup(CURLM* m) {
  FERRY_CURL_REAL(curl_multi_wakeup);
  return fn ? fn(m) : CURLM_INTERNAL_ERROR;
}

CURLU* curl_url() {
  FERRY_CURL_REAL(curl_url);
  return fn ? fn() : nullptr;
}

void curl_url_cleanup(CURLU* u) {
  FERRY_CURL_REAL(curl_url_cleanup);
  if (fn) fn(u);
}

CURLUcode curl_url_get(CURLU* u, CURLUPart part, char** out, unsigned int flags) {
  FERRY_CURL_REAL(curl_url_get);
  return fn ? fn(u, part, out, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU* u, CURLUPart part, const char* content, unsigned int flags) {
  FERRY_CURL_REAL(curl_url_set);
  return fn ? fn(u, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

} // extern "C"
