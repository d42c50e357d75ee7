// GET / and /ui/...: the web UI, served from the assets embedded in the binary (src/ui).
//
//   /, /ui, /ui/                 index.html            Cache-Control: no-cache (it names the build)
//   /ui/<build id>/PATH          an asset of this build  immutable, cached for a year
//   /ui/PATH                     an asset, unversioned   max-age=300
// Every answer carries a strong ETag; If-None-Match with it gets 304. Other methods get 405, an
// unknown file 404 (a JSON error naming the path and where the UI starts).
#pragma once

#include "server/http_message.h"

namespace orchard {

// Whether `path` belongs to the UI (so the service sends the request to handle_web_ui).
bool is_web_ui_path(std::string_view path);

HttpResponse handle_web_ui(const HttpRequest& request);

}  // namespace orchard
