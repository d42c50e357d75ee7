#include "server/web_ui.h"

#include <string>

#include "ui/assets.h"

namespace orchard {
namespace {

constexpr const char* kNoCache = "no-cache";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kShortLived = "public, max-age=300";
// The UI's own files only; inline styles are set by the chart library.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

HttpResponse asset_response(const HttpRequest& request, const UiAsset& asset, const char* cache_control) {
  HttpResponse response;
  response.content_type = std::string(asset.content_type);
  response.headers.emplace_back("cache-control", cache_control);
  response.headers.emplace_back("etag", std::string(asset.etag));
  response.headers.emplace_back("x-content-type-options", "nosniff");
  if (asset.path == "index.html") {
    response.headers.emplace_back("content-security-policy", kContentSecurityPolicy);
    response.headers.emplace_back("referrer-policy", "no-referrer");
  }
  if (request.header("if-none-match") == asset.etag) {
    response.status = 304;
    return response;
  }
  response.body = std::string(asset.body);
  return response;
}

}  // namespace

bool is_web_ui_path(std::string_view path) { return path == "/" || path == "/ui" || path.rfind("/ui/", 0) == 0; }

HttpResponse handle_web_ui(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") return json_error(405, "use GET for the web UI");
  const std::string_view path = request.path();
  if (path == "/" || path == "/ui" || path == "/ui/") {
    const UiAsset* index = find_ui_asset("index.html");
    if (!index) return json_error(500, "this build of orchard has no web UI (ui/index.html was not embedded)");
    return asset_response(request, *index, kNoCache);
  }
  std::string_view rest = path.substr(4);  // after "/ui/"
  const char* cache_control = kShortLived;
  const std::string_view build = ui_build_id();
  if (rest.size() > build.size() && rest.substr(0, build.size()) == build && rest[build.size()] == '/') {
    rest.remove_prefix(build.size() + 1);
    cache_control = kImmutable;
  } else if (const std::size_t slash = rest.find('/'); slash == build.size() && !find_ui_asset(rest)) {
    // Another build's URL (a page loaded before an upgrade): today's file, never cached as that build's.
    rest.remove_prefix(slash + 1);
    cache_control = kNoCache;
  }
  const UiAsset* asset = find_ui_asset(rest);
  if (!asset || asset->path == "index.html") {
    return json_error(404, "the web UI has no file " + std::string(path) + "; the UI starts at /");
  }
  return asset_response(request, *asset, cache_control);
}

}  // namespace orchard
