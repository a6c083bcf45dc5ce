// The sink kit, verdicts by the status alone: for a sink whose vendor says nothing beyond the
// HTTP status (no error code in the body, no partial put), the status class decides the
// verdict (applyStatusClass, ferry/sink/http.h) and a table of the vendor's words its
// message. Each word is a fmt pattern of the status ("{}"); with `body` set the start of the
// response body (secrets masked) follows it, for the answers whose body says why.
#pragma once

#include <chrono>
#include <string>

#include "ferry/plugin.h"
#include "ferry/sink/http.h"

namespace ferry::sink {

struct StatusWord {
  const char* pattern = nullptr;
  bool body = false; // ": <the body's start>" follows
};

// A class's words; a transport failure is always "transport error: <what failed>". The
// defaults suit any HTTP sink; a vendor sets the ones it words in its own terms.
struct StatusWords {
  StatusWord unauthorized{"credentials rejected (HTTP {})"};
  StatusWord timeout{"timed out (HTTP {})"};
  StatusWord throttled{"throttled (HTTP {})"};
  StatusWord too_large{"payload too large (HTTP {})"};
  StatusWord server_error{"server error (HTTP {})", true};
  StatusWord bad_request{}; // 400; no pattern: as `refused`
  StatusWord refused{"request refused (HTTP {})", true};
  StatusWord unexpected{"unexpected HTTP {} (check url)"}; // 1xx, 3xx
};

// The message of a response of class `cls` in `words`; empty for kDelivered.
std::string statusMessage(StatusClass cls, const ferry_http_response& response,
                          const StatusWords& words);

// Judges one attempt by its status: the class's verdict (Retry-After honoured) and message.
void judgeStatus(const ferry_http_response& response, ferry_plugin_verdict& verdict,
                 const StatusWords& words,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace ferry::sink
