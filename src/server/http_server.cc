#include "server/http_server.h"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/error.h"

namespace orchard {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

// What the server needs of a connection at shutdown, whatever its stream (plain TCP or TLS).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void stop_if_idle() = 0;
  virtual net::any_io_executor executor() = 0;
  virtual std::shared_ptr<Connection> hold() = 0;  // null once the connection is going away
};

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  net::io_context ioc;
  // On a strand: accepting and closing (shutdown) never run at the same time on two threads.
  tcp::acceptor acceptor{net::make_strand(ioc)};
  std::optional<net::signal_set> signals;
  std::optional<ssl::context> tls;  // set with --tls-cert / --tls-key
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex sessions_mutex;
  std::unordered_set<Connection*> sessions;

  void accept();
  void shutdown();
};

// One connection: (for TLS, a handshake first,) read a request, answer it, repeat while keep-alive
// holds. Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(tcp::socket&& socket, HttpServer::Impl& server) : stream_(make_stream(std::move(socket), server)), server_(server) {
    beast::error_code ec;
    const auto remote = tcp_layer().socket().remote_endpoint(ec);
    if (!ec) remote_address_ = remote.address().to_string();
    ++server_.connections;
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.insert(this);
  }
  ~Session() {
    --server_.connections;
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(this);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        // The handshake has the request's deadline; a client that never completes it is dropped.
        self->tcp_layer().expires_after(std::chrono::seconds(self->server_.options.read_timeout_seconds));
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->close();
          self->read_header();
        });
      } else {
        self->read_header();
      }
    });
  }

  std::shared_ptr<Connection> hold() override { return this->weak_from_this().lock(); }

  // Called (on the session's strand) when the server stops: an idle connection closes now; one in
  // the middle of a request finishes it and then closes.
  void stop_if_idle() override {
    if (idle_) {
      beast::error_code ec;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ec);
      tcp_layer().close();
    }
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  static Stream make_stream(tcp::socket&& socket, HttpServer::Impl& server) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *server.tls);
    } else {
      (void)server;
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    idle_ = true;
    if (buffer_.size() > 0) return start_request();  // a pipelined request: it has started already
    // The idle timeout runs until the request's first bytes arrive; from then on the whole request,
    // header included, must arrive within --read-timeout. (The header used to get the idle timeout as
    // a whole, so a client sending a byte per second held its connection for a minute: fuzzing and
    // tests/server/bad_input_test.cc, SlowClient.)
    tcp_layer().expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
    stream_.async_read_some(buffer_.prepare(kFirstRead), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->close();  // the client left or idled out: nothing to answer
      self->start_request();
    });
  }

  // The request's deadline: ends the read rather than closing the socket (as the stream's own
  // timeout would), so that the client still gets its 408. Cancelling the pending read is not
  // enough: async_read_header and async_read are made of many reads, and when the deadline falls
  // between two of them (one has completed, its handler is queued) the cancel finds nothing to
  // cancel and the next read would wait without a deadline. Shutting down the receive side makes
  // that read, and every later one, end at once (end of stream), while the 408 can still be sent.
  void start_request() {
    idle_ = false;  // its first bytes are in: a stopping server lets it finish
    tcp_layer().expires_never();
    timed_out_ = false;
    body_done_ = false;
    const std::uint64_t request_number = ++request_number_;
    body_timer_.expires_after(std::chrono::seconds(server_.options.read_timeout_seconds));
    body_timer_.async_wait([weak = this->weak_from_this(), request_number](beast::error_code timer_ec) {
      if (timer_ec) return;
      if (auto self = weak.lock()) {
        // A late event for a request that has already arrived must not touch the next one.
        if (self->request_number_ != request_number || self->body_done_) return;
        self->timed_out_ = true;
        beast::error_code ignored;
        self->tcp_layer().socket().shutdown(tcp::socket::shutdown_receive, ignored);
        self->tcp_layer().socket().cancel(ignored);
      }
    });
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    if (timed_out_) return fail_and_close(408, "the request was not received within " + std::to_string(server_.options.read_timeout_seconds) + " s");
    if (ec == http::error::header_limit) return fail_and_close(431, "request headers are larger than " + std::to_string(server_.options.header_limit) + " bytes");
    // A declared Content-Length over the limit is known before the body is read.
    if (ec == http::error::body_limit) return body_too_large();
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return close();  // the client left or idled out: nothing to answer
    }
    if (ec) return fail_and_close(400, std::string("malformed HTTP request: ") + ec.message());
    // The body is read under the deadline start_request() set for the whole request.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // curl and others wait for this before sending a large body.
      continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *continue_, [self = this->shared_from_this()](beast::error_code write_ec, std::size_t) {
        if (write_ec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code read_ec, std::size_t) {
      self->on_read(read_ec);
    });
  }

  void body_too_large() {
    fail_and_close(413, "request body is larger than the limit of " + std::to_string(server_.options.body_limit) + " bytes");
  }

  void on_read(beast::error_code ec) {
    body_timer_.cancel();
    body_done_ = true;
    if (ec == http::error::body_limit) return body_too_large();
    if (timed_out_) return fail_and_close(408, "the request was not received within " + std::to_string(server_.options.read_timeout_seconds) + " s");
    if (ec) {
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) return close();
      return fail_and_close(400, std::string("malformed HTTP request: ") + ec.message());
    }
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    const bool keep_alive = message.keep_alive();
    head_ = message.method() == http::verb::head;
    HttpResponse response;
    try {
      response = server_.handler(std::move(request));
    } catch (const std::exception& e) {
      response = json_error(500, std::string("internal error: ") + e.what());
    }
    write(std::move(response), keep_alive && !server_.stopping);
  }

  void fail_and_close(int status, const std::string& message) { write(json_error(status, message), false); }

  void write(HttpResponse&& response, bool keep_alive) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(response.status));
    response_.set(http::field::server, "orchard");
    response_.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) response_.set(name, value);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    if (head_) {
      // HEAD: the headers a GET would get, Content-Length included, and no body.
      response_.content_length(response_.body().size());
      response_.body().clear();
      head_ = false;
    } else {
      response_.prepare_payload();
    }
    tcp_layer().expires_after(std::chrono::seconds(server_.options.read_timeout_seconds));
    http::async_write(stream_, response_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!keep_alive) return self->close_after_draining();
      self->read_header();
    });
  }

  void close() {
    beast::error_code ec;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp_layer().close();
  }

  // Closing a socket with unread bytes makes the kernel answer them with a reset, which can reach the
  // client before it has read the response (a 413 for a body still being sent arrived as "connection
  // reset"). So: end our side, then read and drop what the client still sends until it closes too,
  // for at most kDrainSeconds and kDrainBytes (what nginx calls a lingering close).
  void close_after_draining() {
    beast::error_code ec;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    idle_ = true;  // a stopping server need not wait for this
    drained_ = 0;
    if (!drain_buffer_) drain_buffer_ = std::make_unique<std::array<char, 4096>>();  // only sessions that drain pay for it
    tcp_layer().expires_after(std::chrono::seconds(kDrainSeconds));
    drain();
  }

  void drain() {
    tcp_layer().async_read_some(net::buffer(*drain_buffer_), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kDrainBytes) return self->close();
      self->drain();
    });
  }

  static constexpr int kDrainSeconds = 2;
  static constexpr std::size_t kDrainBytes = std::size_t{4} << 20;
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;
  std::size_t drained_ = 0;

  static constexpr std::size_t kFirstRead = 4096;  // bytes asked for by the read that waits for a request

  Stream stream_;
  std::string remote_address_;
  beast::flat_buffer buffer_;
  HttpServer::Impl& server_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<http::response<http::empty_body>> continue_;
  net::steady_timer body_timer_{stream_.get_executor()};
  bool idle_ = true;
  bool timed_out_ = false;
  bool body_done_ = false;
  std::uint64_t request_number_ = 0;
  bool head_ = false;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping && ec != net::error::operation_aborted) accept();
      return;
    }
    if (connections >= options.max_connections) {
      // Over the cap: answer 503 on the spot and close, rather than letting clients queue unseen.
      static const std::string busy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 53\r\n\r\n"
          "{\"error\":\"too many connections; retry in a moment.\"}";
      beast::error_code ignored;
      net::write(socket, net::buffer(busy), ignored);
      socket.close(ignored);
    } else {
      if (tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *this)->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->start();
      }
    }
    accept();
  });
}

void HttpServer::Impl::shutdown() {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  if (signals) signals->cancel(ec);
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(sessions_mutex);
    for (Connection* session : sessions) {
      if (auto alive = session->hold()) live.push_back(std::move(alive));
    }
  }
  for (auto& session : live) net::post(session->executor(), [session] { session->stop_if_idle(); });
}

HttpServer::HttpServer(const HttpServerOptions& options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->handler = std::move(handler);
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      throw Error(ErrorKind::kInvalidArgument, "TLS needs both a certificate and its key", "--tls-cert / --tls-key",
                  "--tls-cert cert.pem --tls-key key.pem (PEM files)");
    }
    // TLS 1.2 and 1.3 only.
    impl_->tls.emplace(ssl::context::tls_server);
    impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code tls_ec;
    impl_->tls->use_certificate_chain_file(options.tls_cert_file, tls_ec);
    if (tls_ec) {
      throw Error(ErrorKind::kInvalidArgument, "cannot use the TLS certificate: " + tls_ec.message(), options.tls_cert_file,
                  "a PEM certificate (chain)");
    }
    impl_->tls->use_private_key_file(options.tls_key_file, ssl::context::pem, tls_ec);
    if (tls_ec) {
      throw Error(ErrorKind::kInvalidArgument, "cannot use the TLS key: " + tls_ec.message(), options.tls_key_file,
                  "the PEM private key of --tls-cert");
    }
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw Error(ErrorKind::kInvalidArgument, "\"" + options.host + "\" is not an IP address", "--host", "e.g. 127.0.0.1 or 0.0.0.0");
  const tcp::endpoint endpoint(address, options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " + ec.message(), "",
                "a free port (--port) on a local address (--host)");
  }
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::stop() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] { impl->shutdown(); });
}

void HttpServer::run(bool handle_signals) {
  if (handle_signals) {
    impl_->signals.emplace(impl_->ioc, SIGTERM, SIGINT);
    impl_->signals->async_wait([impl = impl_.get()](beast::error_code ec, int) {
      if (!ec) net::post(impl->acceptor.get_executor(), [impl] { impl->shutdown(); });
    });
  }
  impl_->accept();
  int threads = impl_->options.threads > 0 ? impl_->options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& worker : workers) worker.join();
}

}  // namespace orchard
