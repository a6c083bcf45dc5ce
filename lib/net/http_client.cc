// libcurl multi-based HTTP client. Easy handles are pooled and reused so connections stay
// alive between requests (libcurl keeps its connection cache in the multi handle).
#include "ferry/net/http_client.h"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace ferry::net {
namespace {

std::once_flag g_curl_init;

void globalInit() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  std::chrono::steady_clock::time_point started;
};

size_t onBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  t->response.body.append(ptr, size * nmemb);
  return size * nmemb;
}

size_t onHeader(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::string line(ptr, size * nmemb);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear(); // a new response (after 100-continue or a redirect)
  } else if (!line.empty()) {
    t->response.headers.push_back(std::move(line));
  }
  return size * nmemb;
}

void configure(Transfer& t, const HttpRequest& r, char* error_buffer) {
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (r.method != "GET" && r.method != "HEAD") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(r.body));
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body_len));
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method == "GET" ? nullptr : r.method.c_str());
  }
  for (const auto& h : r.headers)
    t.headers = curl_slist_append(t.headers, h.c_str());
  // No "Expect: 100-continue" round trip for large bodies; libcurl adds it otherwise.
  t.headers = curl_slist_append(t.headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<uint64_t>(r.timeout_ms, 10000)));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
}

} // namespace

struct HttpClient::Impl {
  // Made by the first start() or poll(), not by the constructor: an HTTP output that has not
  // sent yet neither loads libcurl nor initialises OpenSSL (see curl_loader.cc). Atomic
  // because wakeup() comes from other threads.
  std::atomic<CURLM*> multi{nullptr};

  CURLM* ensureMulti() {
    if (CURLM* m = multi.load(std::memory_order_acquire)) return m;
    globalInit();
    CURLM* m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    multi.store(m, std::memory_order_release);
    // A wakeup() that came before the handle existed is not lost: the next poll returns.
    curl_multi_wakeup(m);
    return m;
  }

  std::vector<CURL*> idle; // pooled easy handles
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  std::unordered_map<CURL*, std::unique_ptr<char[]>> error_buffers;

  CURL* takeHandle() {
    if (!idle.empty()) {
      CURL* e = idle.back();
      idle.pop_back();
      curl_easy_reset(e);
      return e;
    }
    return curl_easy_init();
  }

  void finish(CURL* e, CURLcode code, std::vector<HttpResponse>& done) {
    auto it = active.find(e);
    if (it == active.end()) return;
    Transfer& t = *it->second;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      t.response.status = 0;
      const char* buf = error_buffers[e].get();
      t.response.error = (buf && buf[0]) ? buf : curl_easy_strerror(code);
    } else {
      t.response.status = static_cast<int>(status);
    }
    t.response.elapsed_us =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - t.started)
                                  .count());
    curl_multi_remove_handle(multi.load(), e);
    curl_slist_free_all(t.headers);
    done.push_back(std::move(t.response));
    active.erase(it);
    idle.push_back(e);
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}

HttpClient::~HttpClient() {
  std::vector<HttpResponse> ignored;
  abortAll(ignored);
  for (CURL* e : impl_->idle)
    curl_easy_cleanup(e);
  if (CURLM* m = impl_->multi.load()) curl_multi_cleanup(m);
}

void HttpClient::start(const HttpRequest& request) {
  CURLM* multi = impl_->ensureMulti();
  CURL* e = impl_->takeHandle();
  auto t = std::make_unique<Transfer>();
  t->easy = e;
  t->response.id = request.id;
  t->started = std::chrono::steady_clock::now();
  auto& errbuf = impl_->error_buffers[e];
  if (!errbuf) errbuf = std::make_unique<char[]>(CURL_ERROR_SIZE);
  errbuf[0] = '\0';
  configure(*t, request, errbuf.get());
  Transfer* raw = t.get();
  impl_->active.emplace(e, std::move(t));
  if (curl_multi_add_handle(multi, e) != CURLM_OK) {
    std::vector<HttpResponse> done;
    (void)raw;
    impl_->finish(e, CURLE_FAILED_INIT, done);
  }
}

void HttpClient::poll(int timeout_ms, std::vector<HttpResponse>& done) {
  CURLM* multi = impl_->ensureMulti();
  int running = 0;
  curl_multi_perform(multi, &running);
  int queued = 0;
  bool any = false;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg == CURLMSG_DONE) {
      impl_->finish(msg->easy_handle, msg->data.result, done);
      any = true;
    }
  }
  if (any) return;
  curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
  curl_multi_perform(multi, &running);
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg == CURLMSG_DONE) impl_->finish(msg->easy_handle, msg->data.result, done);
  }
}

void HttpClient::abortAll(std::vector<HttpResponse>& done) {
  std::vector<CURL*> handles;
  for (auto& [e, t] : impl_->active)
    handles.push_back(e);
  for (CURL* e : handles)
    impl_->finish(e, CURLE_ABORTED_BY_CALLBACK, done);
}

void HttpClient::wakeup() {
  if (CURLM* m = impl_->multi.load(std::memory_order_acquire)) curl_multi_wakeup(m);
}

size_t HttpClient::inFlight() const {
  return impl_->active.size();
}

HttpResponse httpFetch(const HttpRequest& request) {
  HttpClient client;
  client.start(request);
  std::vector<HttpResponse> done;
  while (done.empty())
    client.poll(1000, done);
  return std::move(done.front());
}

} // namespace ferry::net
