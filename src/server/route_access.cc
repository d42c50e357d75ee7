#include "server/route_access.h"

#include <array>

namespace orchard {
namespace {

// The path's first segments, without allocating (this runs on every request when keys are on).
struct Segments {
  std::array<std::string_view, 6> items;
  std::size_t count = 0;
  std::size_t size() const { return count; }
  bool empty() const { return count == 0; }
  std::string_view operator[](std::size_t i) const { return items[i]; }
  std::string_view back() const { return items[count - 1]; }
};

Segments segments(std::string_view path) {
  Segments parts;
  while (!path.empty() && parts.count < parts.items.size()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    parts.items[parts.count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

}  // namespace

RouteAccess route_access(std::string_view method, std::string_view path) {
  const auto parts = segments(path);
  const bool get = method == "GET" || method == "HEAD";
  RouteAccess out;
  // Probes and the web UI's own files (the UI asks for a key and sends it with its API calls).
  if (path == "/" || path == "/health" || path == "/ping" || path == "/v2/health/live" || path == "/v2/health/ready" ||
      path == "/favicon.ico" || (!parts.empty() && parts[0] == "ui")) {
    out.access = Access::kPublic;
    return out;
  }
  if (path == "/metrics") return out;  // kRead
  if (!parts.empty() && parts[0] == "v2") {
    if (parts.size() == 1) {
      out.access = Access::kMetadata;
      return out;
    }
    if (parts[1] == "repository") {
      // index: read; load / unload an endpoint: a deployment change. Judged on the path's end, not
      // on segment positions: the handler reads "models//load" (an empty name) as a load too.
      const bool deployment = path.size() >= 5 && (path.substr(path.size() - 5) == "/load" || (path.size() >= 7 && path.substr(path.size() - 7) == "/unload"));
      out.access = deployment ? Access::kDeploy : Access::kRead;
      return out;
    }
    if (parts[1] == "models" && parts.size() >= 3) {
      out.endpoint = std::string(parts[2]);
      out.access = parts.back() == "infer" && !get ? Access::kPredict : Access::kMetadata;
      return out;
    }
    return out;
  }
  if (!parts.empty() && parts[0] == "endpoints" && parts.size() == 3 && parts[2] == "invocations") {
    out.endpoint = std::string(parts[1]);
    out.access = Access::kPredict;
    return out;
  }
  if (path == "/invocations") {
    out.access = Access::kPredict;  // the only served model: the service fills in its name
    return out;
  }
  if (parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1") {
    if (parts[2] == "keys") {
      out.access = Access::kAdmin;
      return out;
    }
    if (!get && (parts[2] == "feedback" || (parts[2] == "predictions" && parts.size() == 5 && parts[4] == "feedback"))) {
      out.access = Access::kFeedback;
      return out;
    }
    out.access = get ? Access::kRead : Access::kDeploy;
    return out;
  }
  return out;  // unknown routes answer 404, to readers only
}

}  // namespace orchard
