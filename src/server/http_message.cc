#include "server/http_message.h"

#include <cstdio>

namespace orchard {

void append_json_string(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
}

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
