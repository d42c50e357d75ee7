#include "server/http_message.h"

#include <charconv>
#include <cstdio>

namespace orchard {

bool json_content_type(std::string_view type) {
  return type.empty() || type.find("json") != std::string_view::npos || type.find("x-www-form-urlencoded") != std::string_view::npos ||
         type.find("text/plain") != std::string_view::npos;
}

HttpResponse json_error(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"error\":\"";
  append_json_string(response.body, message);
  response.body += "\"}";
  return response;
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::string query_param(const HttpRequest& request, const std::string& key) {
  const std::size_t q = request.target.find('?');
  if (q == std::string::npos) return {};
  std::string_view query = std::string_view(request.target).substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == key) return eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace orchard
