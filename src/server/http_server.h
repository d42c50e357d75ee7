// The HTTP/1.1 server (Boost.Beast over Asio): keep-alive, limits, timeouts, graceful shutdown.
//
// One io_context run by N threads; each connection is a chain of asynchronous reads and writes, so a
// slow client holds no thread. The handler is called on an io thread with the whole request read
// (bodies are small and inference takes microseconds, so it answers inline).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "server/http_message.h"

namespace orchard {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see HttpServer::port())
  int threads = 0;             // 0: one per core
  std::size_t body_limit = std::size_t{16} << 20;   // larger bodies get 413
  std::size_t header_limit = std::size_t{16} << 10; // larger headers get 431
  int read_timeout_seconds = 30;   // to receive a whole request once it has started
  int idle_timeout_seconds = 60;   // between requests on a kept-alive connection
  std::size_t max_connections = 10000;  // beyond, new connections get 503 and are closed
  std::string tls_cert_file;  // PEM; with tls_key_file, the server speaks HTTPS only (TLS 1.2 and up)
  std::string tls_key_file;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&&)>;

  // Binds and listens. Throws Error(kIo) if the address cannot be bound.
  HttpServer(const HttpServerOptions& options, Handler handler);
  ~HttpServer();

  unsigned short port() const;
  // Serves until stop() (or SIGTERM / SIGINT when handle_signals is true). Returns after every
  // connection has finished its current request.
  void run(bool handle_signals);
  // Stops accepting; connections finish the request in flight and close. Thread-safe.
  void stop();

  struct Impl;  // public so that the connection class in http_server.cc can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace orchard
