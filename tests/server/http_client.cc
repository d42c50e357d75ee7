#include "server/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

namespace orchard::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string Response::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

// Each operation is started asynchronously and the private io_context is run until it completes:
// tcp_stream's expiry then gives every step a timeout, which blocking Asio calls cannot have.
struct HttpClient::Impl {
  using Done = std::function<void(beast::error_code, std::size_t)>;

  unsigned short port;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::size_t opened = 0;

  Impl(unsigned short p, std::chrono::milliseconds t) : port(p), timeout(t) {}

  beast::error_code run(const std::function<void(Done)>& start) {
    beast::error_code result = net::error::would_block;
    stream->expires_after(timeout);
    start([&result](beast::error_code ec, std::size_t) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void drop() {
    if (!stream) return;
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    stream.reset();
    buffer.clear();
  }

  void connect() {
    stream.emplace(ioc);
    buffer.clear();
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), port);
    const beast::error_code ec = run([&](Done done) {
      stream->async_connect(endpoint, [done](beast::error_code e) { done(e, 0); });
    });
    if (ec) {
      stream.reset();
      throw HttpError("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
    }
    stream->socket().set_option(tcp::no_delay(true));
    ++opened;
  }
};

HttpClient::HttpClient(unsigned short port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>(port, timeout)) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() { impl_->drop(); }

std::size_t HttpClient::connections_opened() const { return impl_->opened; }

Response HttpClient::request(const std::string& method, const std::string& target, const std::string& body, const Headers& headers) {
  Impl& impl = *impl_;
  if (!impl.stream) impl.connect();

  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(impl.port));
  req.set(http::field::user_agent, "orchard-server-tests");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    has_content_type = has_content_type || lower(name) == "content-type";
  }
  if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();

  beast::error_code ec = impl.run([&](Impl::Done done) { http::async_write(*impl.stream, req, done); });
  if (ec) {
    impl.drop();
    throw HttpError(method + " " + target + ": sending failed: " + ec.message());
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.skip(verb == http::verb::head);
  ec = impl.run([&](Impl::Done done) { http::async_read(*impl.stream, impl.buffer, parser, done); });
  if (ec) {
    impl.drop();
    throw HttpError(method + " " + target + ": no response: " + ec.message());
  }
  auto message = parser.release();
  Response response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) response.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  response.body = std::move(message.body());
  response.keep_alive = message.keep_alive();
  if (!response.keep_alive) impl.drop();
  return response;
}

// ---- RawConnection ---------------------------------------------------------------------------

RawConnection::RawConnection(unsigned short port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw HttpError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw HttpError("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawConnection::ReadResult RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
  ReadResult result;
  result.data = std::move(pending_);
  pending_.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return result;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return result;
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result.closed = true;  // orderly close, or reset
      return result;
    }
    result.data.append(chunk, static_cast<std::size_t>(n));
  }
}

Response RawConnection::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[16384];
  while (!holds_whole_response(pending_)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) throw HttpError("no whole response within the timeout; received: " + pending_);
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw HttpError("the connection closed before a whole response; received: " + pending_);
    pending_.append(chunk, static_cast<std::size_t>(n));
  }
  std::size_t consumed = 0;
  Response response = parse_response(pending_, &consumed);
  pending_.erase(0, consumed);
  return response;
}

namespace {

// Header block end and Content-Length of the response at the start of `raw`, if its headers are in.
bool response_extent(std::string_view raw, std::size_t& header_end, std::size_t& length) {
  const std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  header_end = end + 4;
  length = 0;
  const std::string head = lower(std::string(raw.substr(0, end)));
  const std::size_t at = head.find("\r\ncontent-length:");
  if (at != std::string::npos) {
    std::size_t i = at + 17;
    while (i < head.size() && head[i] == ' ') ++i;
    std::from_chars(head.data() + i, head.data() + head.size(), length);
  }
  return true;
}

}  // namespace

bool holds_whole_response(std::string_view raw) {
  std::size_t header_end = 0, length = 0;
  return response_extent(raw, header_end, length) && raw.size() >= header_end + length;
}

Response parse_response(std::string_view raw, std::size_t* consumed) {
  std::size_t header_end = 0, length = 0;
  if (!response_extent(raw, header_end, length) || raw.size() < header_end + length) {
    throw HttpError("not a whole HTTP response: " + std::string(raw.substr(0, 200)));
  }
  if (raw.substr(0, 9) != "HTTP/1.1 " && raw.substr(0, 9) != "HTTP/1.0 ") throw HttpError("not an HTTP response: " + std::string(raw.substr(0, 200)));
  Response response;
  std::from_chars(raw.data() + 9, raw.data() + std::min<std::size_t>(raw.size(), 12), response.status);
  std::string_view lines = raw.substr(0, header_end - 4);
  std::size_t eol = lines.find("\r\n");
  while (eol != std::string_view::npos) {
    lines.remove_prefix(eol + 2);
    eol = lines.find("\r\n");
    const std::string_view line = lines.substr(0, eol);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[lower(std::string(line.substr(0, colon)))] = std::string(value);
  }
  response.body = std::string(raw.substr(header_end, length));
  response.keep_alive = lower(response.header("connection")) != "close";
  if (consumed) *consumed = header_end + length;
  return response;
}

}  // namespace orchard::testing
