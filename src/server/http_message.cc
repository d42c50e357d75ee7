#include "server/http_message.h"

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

}  // namespace orchard
