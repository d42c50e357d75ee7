#include "cli/server_client.h"

#include <cstdlib>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace orchard {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ServerClient::Impl {
  std::string url, host, port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
};

ServerClient::ServerClient(const std::string& url) : impl_(std::make_unique<Impl>()) {
  impl_->url = url;
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    throw Error(ErrorKind::kInvalidArgument, "server URL \"" + url + "\" is not http://HOST:PORT", "--server", "e.g. http://127.0.0.1:8080");
  }
  std::string authority = url.substr(prefix.size());
  authority = authority.substr(0, authority.find('/'));
  const std::size_t colon = authority.rfind(':');
  impl_->host = colon == std::string::npos ? authority : authority.substr(0, colon);
  impl_->port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
}

ServerClient::~ServerClient() = default;

ClientResponse ServerClient::request(const std::string& method, const std::string& target, const std::string& body,
                                     const std::string& content_type) {
  beast::error_code ec;
  if (!impl_->stream) {
    tcp::resolver resolver(impl_->ioc);
    const auto endpoints = resolver.resolve(impl_->host, impl_->port, ec);
    if (!ec) {
      impl_->stream.emplace(impl_->ioc);
      impl_->stream->expires_after(std::chrono::seconds(10));
      impl_->stream->connect(endpoints, ec);
    }
    if (ec) {
      impl_->stream.reset();
      throw Error(ErrorKind::kIo, "cannot reach the Orchard server: " + ec.message(), impl_->url, "a running `orchard serve` at --server URL");
    }
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, impl_->host);
  req.set(http::field::content_type, content_type);
  req.set(http::field::user_agent, "orchard-cli");
  // A server with --auth wants a key: $ORCHARD_API_KEY, as curl users would send it.
  if (const char* key = std::getenv("ORCHARD_API_KEY"); key && *key) req.set(http::field::authorization, std::string("Bearer ") + key);
  req.body() = body;
  req.prepare_payload();
  impl_->stream->expires_after(std::chrono::seconds(300));
  http::write(*impl_->stream, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  if (!ec) http::read(*impl_->stream, buffer, parser, ec);
  if (ec) {
    impl_->stream.reset();
    throw Error(ErrorKind::kIo, "the Orchard server did not answer: " + ec.message(), impl_->url);
  }
  auto response = parser.release();
  if (!response.keep_alive()) impl_->stream.reset();
  return {static_cast<int>(response.result_int()), std::move(response.body())};
}

std::string ServerClient::call(const std::string& method, const std::string& target, const std::string& body,
                               const std::string& content_type) {
  ClientResponse response = request(method, target, body, content_type);
  if (response.status < 400) return std::move(response.body);
  std::string message = response.body;
  try {
    const auto json = nlohmann::json::parse(response.body);
    if (json.contains("error")) message = json["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  const ErrorKind kind = response.status == 404 ? ErrorKind::kNotFound
                         : response.status == 422 ? ErrorKind::kInvalidModel
                         : response.status < 500  ? ErrorKind::kInvalidArgument
                                                  : ErrorKind::kIo;
  if (response.status == 401) throw Error(kind, message, impl_->url + target, "an API key in $ORCHARD_API_KEY (orchard keys create)");
  throw Error(kind, message, impl_->url + target);
}

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace orchard
