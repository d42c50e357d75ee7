#include "monitoring/webhook_listener.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <chrono>

namespace orchard::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct WebhookListener::Impl {
  int status = 200;
  asio::io_context context;
  tcp::acceptor acceptor{context};
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<ReceivedRequest> requests;
  std::vector<std::shared_ptr<tcp::socket>> stalled;  // kept open while the listener lives
  std::thread thread;

  void serve() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(context);
      boost::system::error_code error;
      acceptor.accept(*socket, error);
      if (error) return;  // closed by the destructor
      std::string data;
      char chunk[4096];
      std::size_t header_end = std::string::npos, length = 0;
      while (true) {
        const std::size_t n = socket->read_some(asio::buffer(chunk), error);
        if (error) break;
        data.append(chunk, n);
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          const std::size_t at = data.find("Content-Length: ");
          if (at != std::string::npos && at < header_end) length = std::stoul(data.substr(at + 16));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      }
      if (header_end == std::string::npos) continue;
      ReceivedRequest request;
      const std::string first = data.substr(0, data.find("\r\n"));
      request.method = first.substr(0, first.find(' '));
      request.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
      const std::size_t type = data.find("Content-Type: ");
      if (type != std::string::npos && type < header_end) request.content_type = data.substr(type + 14, data.find("\r\n", type) - type - 14);
      request.body = data.substr(header_end + 4, length);
      {
        std::lock_guard lock(mutex);
        requests.push_back(std::move(request));
      }
      arrived.notify_all();
      if (status == 0) {
        stalled.push_back(socket);
        continue;
      }
      const std::string answer = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      asio::write(*socket, asio::buffer(answer), error);
      socket->shutdown(tcp::socket::shutdown_both, error);
    }
  }
};

WebhookListener::WebhookListener(int status, unsigned short port) : impl_(std::make_unique<Impl>()) {
  impl_->status = status;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([this] { impl_->serve(); });
}

WebhookListener::~WebhookListener() {
  boost::system::error_code error;
  // A blocking accept is woken by shutting the listening socket down.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(error);
  impl_->thread.join();
}

std::vector<ReceivedRequest> WebhookListener::wait_for(std::size_t count, double seconds) {
  std::unique_lock lock(impl_->mutex);
  impl_->arrived.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return impl_->requests.size() >= count; });
  return impl_->requests;
}

unsigned short dead_port() {
  asio::io_context context;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace orchard::testing
