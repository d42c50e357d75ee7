// A small synchronous HTTP/1.1 client for the server tests (Boost.Beast underneath, kept out of this
// header so that only http_client.cc pays for compiling it), and a raw socket for sending arbitrary
// bytes: malformed requests, requests cut in half, clients that stall.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchard::testing {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;  // whether the server keeps the connection open after this response

  // The header's value, or "" when it is absent (name in lower case).
  std::string header(const std::string& name) const;
};

// A transport failure (connection refused or closed, timeout, unparsable response); never an HTTP
// error status, which is a Response like any other.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One kept-alive connection to 127.0.0.1:port, opened on first use and again after the server closed
// it (a response with "Connection: close", or a transport error). Not thread-safe: one per thread.
class HttpClient {
 public:
  explicit HttpClient(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its response. A non-empty body without a content-type header is sent
  // as application/json. Throws HttpError on a transport failure (the connection is then dropped).
  Response request(const std::string& method, const std::string& target, const std::string& body = "",
                   const Headers& headers = {});
  Response get(const std::string& target) { return request("GET", target); }
  Response post(const std::string& target, const std::string& body, const Headers& headers = {}) {
    return request("POST", target, body, headers);
  }
  Response put(const std::string& target, const std::string& body) { return request("PUT", target, body); }

  // TCP connections opened so far (1 after any number of requests means keep-alive held).
  std::size_t connections_opened() const;
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A plain TCP connection to 127.0.0.1:port for bytes no well-behaved client sends.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`; false if the peer has closed or reset the connection (never SIGPIPE).
  bool send(std::string_view bytes);

  struct ReadResult {
    std::string data;     // everything received
    bool closed = false;  // the peer closed (or reset) the connection before the timeout
  };
  // Reads until the peer closes the connection or `timeout` passes.
  ReadResult read_until_closed(std::chrono::milliseconds timeout);
  // Reads one whole response (Content-Length framed); throws HttpError on timeout or close before it.
  Response read_response(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;  // received bytes not yet returned
};

// Parses the first response in `raw` (status line, headers, Content-Length body). Throws HttpError.
// `consumed` receives the number of bytes it took.
Response parse_response(std::string_view raw, std::size_t* consumed = nullptr);
// Whether `raw` starts with a whole response (headers and body).
bool holds_whole_response(std::string_view raw);

}  // namespace orchard::testing
