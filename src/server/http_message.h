// Orchard's own view of an HTTP exchange, so that protocol adapters and the router never see Boost.
#pragma once

#include <string>

#include "common/json_text.h"
#include <string_view>
#include <utility>
#include <vector>

namespace orchard {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // the client's IP address
  std::string caller;          // who asks, once authenticated ("key:NAME (ADDRESS)"); empty without keys
  // The endpoints the caller's key is limited to (empty: any). Routes that name their endpoint are
  // checked before dispatch; feedback, which names predictions, checks each one's endpoint.
  std::vector<std::string> endpoint_scope;

  std::string_view path() const {
    const std::size_t q = target.find('?');
    return std::string_view(target).substr(0, q);
  }
  // The first header with this (lower-case) name, or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Whether a Content-Type may carry a JSON body: JSON types, and the types curl and other tools send
// by default (form-urlencoded, text/plain), which the KServe docs' own examples rely on.
bool json_content_type(std::string_view content_type);

// {"error": "..."} with the given status (the Open Inference Protocol's error form, used everywhere).
HttpResponse json_error(int status, const std::string& message);

// Percent-decoding ('+' is a space) of a query string part.
std::string url_decode(std::string_view text);
// The value of query parameter `key` (decoded), or empty if absent.
std::string query_param(const HttpRequest& request, const std::string& key);


}  // namespace orchard
