// Posting a JSON body to a webhook: one HTTP/1.1 POST to an http:// URL, bounded in time, that
// reports failure instead of throwing (a dead or slow receiver must never take its caller down).
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace orchard {

struct HttpUrl {
  std::string host;    // name or address; an IPv6 address without its brackets
  std::string port;    // "80" when the URL gives none
  std::string target;  // path and query, "/" when the URL gives none
};

// Parses "http://HOST[:PORT][/PATH][?QUERY]" (HOST may be "[IPv6]"). Throws Error(kInvalidArgument)
// naming the URL for anything else (https, user info, a bad port, no host).
HttpUrl parse_http_url(const std::string& url);

struct WebhookResult {
  bool ok = false;    // a 2xx answer arrived
  int status = 0;     // the HTTP status, 0 when none arrived
  std::string error;  // why not ok: "connect: Connection refused", "timed out after 5000 ms", "HTTP 500", …
};

// POSTs `body` as application/json to `url`, waiting at most `timeout` for the whole exchange
// (resolve, connect, send, answer). Returns early with "cancelled" once *cancel becomes true (it is
// checked every 50 ms). Never throws; the answer's body is read (up to 64 KiB) and ignored.
WebhookResult post_json(const std::string& url, const std::string& body, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                        const std::atomic<bool>* cancel = nullptr) noexcept;

}  // namespace orchard
