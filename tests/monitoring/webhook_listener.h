// A tiny HTTP listener for the webhook tests: accepts connections on 127.0.0.1, reads one request per
// connection (headers and a Content-Length body) and answers with a fixed status, or never answers
// (a stalled receiver). Records what it received.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace orchard::testing {

struct ReceivedRequest {
  std::string method, target, content_type, body;
};

class WebhookListener {
 public:
  // status 0: read the request, never answer (the connection stays open until the listener dies).
  explicit WebhookListener(int status = 200, unsigned short port = 0);
  ~WebhookListener();

  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "/hook") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  // Waits up to `seconds` until `count` requests have arrived; returns those received.
  std::vector<ReceivedRequest> wait_for(std::size_t count, double seconds = 5);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
unsigned short dead_port();

}  // namespace orchard::testing
