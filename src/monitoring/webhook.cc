#include "monitoring/webhook.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"

namespace orchard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::chrono::milliseconds kCancelPoll{50};
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

// Resolves host:port by the deadline, or gives up (error set, nullopt). getaddrinfo cannot be
// interrupted, and asio's asynchronous resolver runs it on a thread that the io_context joins when it
// is destroyed: a DNS server that does not answer held post_json, and the drift watcher's shutdown,
// well past the deadline. The lookup runs on a detached thread of its own instead, which is left to
// finish alone (its result dropped) when the deadline passes or the caller cancels.
std::optional<asio::ip::tcp::resolver::results_type> resolve_within(const std::string& host, const std::string& port,
                                                                     std::chrono::steady_clock::time_point deadline,
                                                                     const std::atomic<bool>* cancel, std::string& error) {
  struct Lookup {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    asio::ip::tcp::resolver::results_type results;
    beast::error_code error;
  };
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host, port] {
    asio::io_context own;
    asio::ip::tcp::resolver resolver(own);
    beast::error_code ec;
    auto results = resolver.resolve(host, port, ec);
    std::lock_guard lock(lookup->mutex);
    lookup->results = std::move(results);
    lookup->error = ec;
    lookup->done = true;
    lookup->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->mutex);
  while (!lookup->done) {
    if (cancel && cancel->load()) {
      error = "cancelled";
      return std::nullopt;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      error = "timed out resolving " + host;
      return std::nullopt;
    }
    lookup->done_cv.wait_for(lock, std::min<std::chrono::steady_clock::duration>(kCancelPoll, deadline - now));
  }
  if (lookup->error) {
    error = "resolve: " + lookup->error.message();
    return std::nullopt;
  }
  return lookup->results;
}

[[noreturn]] void bad_url(const std::string& url, const std::string& what) {
  throw Error(ErrorKind::kInvalidArgument, what, "webhook URL \"" + url + "\"", "http://HOST[:PORT][/PATH]");
}

}  // namespace

HttpUrl parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) bad_url(url, url.rfind("https://", 0) == 0 ? "https is not supported" : "not an http:// URL");
  const std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find_first_of("/?");
  const std::string authority = rest.substr(0, slash);
  HttpUrl parsed;
  parsed.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (parsed.target[0] == '?') parsed.target.insert(parsed.target.begin(), '/');
  if (authority.find('@') != std::string::npos) bad_url(url, "user info is not supported");
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) bad_url(url, "unclosed [ in the host");
    parsed.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') bad_url(url, "unexpected text after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
  } else {
    const std::size_t colon = authority.find(':');
    parsed.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) bad_url(url, "no host");
  if (port.empty()) {
    parsed.port = "80";
  } else {
    char* end = nullptr;
    const long number = std::strtol(port.c_str(), &end, 10);
    if (end != port.c_str() + port.size() || number < 1 || number > 65535) bad_url(url, "bad port \"" + port + "\"");
    parsed.port = std::to_string(number);
  }
  return parsed;
}

WebhookResult post_json(const std::string& url, const std::string& body, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* cancel) noexcept {
  WebhookResult result;
  try {
    const HttpUrl where = parse_http_url(url);
    asio::io_context context;
    beast::tcp_stream stream(context);
    http::request<http::string_body> request{http::verb::post, where.target, 11};
    const std::string host = where.host.find(':') == std::string::npos ? where.host : "[" + where.host + "]";  // IPv6
    request.set(http::field::host, where.port == "80" ? host : host + ":" + where.port);
    request.set(http::field::user_agent, "orchard");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::connection, "close");
    request.body() = body;
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string failure;
    bool answered = false;
    auto fail = [&](const char* stage, const beast::error_code& error) {
      failure = std::string(stage) + ": " + (error == beast::error::timeout ? "timed out" : error.message());
    };
    const auto endpoints = resolve_within(where.host, where.port, deadline, cancel, result.error);
    if (!endpoints) return result;
    stream.expires_at(deadline);
    stream.async_connect(*endpoints, [&](const beast::error_code& connect_error, const asio::ip::tcp::endpoint&) {
      if (connect_error) return fail("connect", connect_error);
      http::async_write(stream, request, [&](const beast::error_code& send_error, std::size_t) {
        if (send_error) return fail("send", send_error);
        http::async_read(stream, buffer, parser, [&](const beast::error_code& read_error, std::size_t) {
          if (read_error) return fail("answer", read_error);
          answered = true;
        });
      });
    });
    // The deadline bounds the whole exchange; cancelling is seen within kCancelPoll.
    while (!context.stopped()) {
      if (cancel && cancel->load()) {
        result.error = "cancelled";
        return result;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        result.error = "timed out after " + std::to_string(timeout.count()) + " ms";
        return result;
      }
      context.run_for(std::min<std::chrono::steady_clock::duration>(kCancelPoll, deadline - now));
    }
    if (!answered) {
      result.error = failure.empty() ? "no answer" : failure;
      return result;
    }
    result.status = static_cast<int>(parser.get().result_int());
    result.ok = result.status >= 200 && result.status < 300;
    if (!result.ok) result.error = "HTTP " + std::to_string(result.status);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace orchard
