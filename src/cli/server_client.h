// A small HTTP/1.1 client (Boost.Beast) for `orchard VERB --server URL`: the registry verbs sent to a
// running server's management API instead of a local data folder.
#pragma once

#include <memory>
#include <string>

namespace orchard {

struct ClientResponse {
  int status = 0;
  std::string body;
};

class ServerClient {
 public:
  // url: http://HOST:PORT (https is not supported yet). Throws Error(kInvalidArgument) for a bad URL.
  explicit ServerClient(const std::string& url);
  ~ServerClient();

  // Sends one request; throws Error(kIo) naming the server if it cannot be reached.
  ClientResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& content_type = "application/json");

  // As request(), but turns an error status into Error: 404 -> kNotFound, 4xx -> kInvalidArgument,
  // 5xx -> kIo, with the server's {"error": ...} message.
  std::string call(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& content_type = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query value.
std::string url_encode(const std::string& text);

}  // namespace orchard
