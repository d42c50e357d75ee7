// The web UI's files (ui/ in the repository), embedded in the binary at build time, so that
// `orchard serve` needs nothing beside itself to serve the UI. The bytes are generated into
// ui_assets_data.cc by embed_assets.cmake from ui/index.html, ui/*.css, ui/*.svg, ui/src/**/*.js and
// ui/vendor/* (the chart library's dist files, committed, so the build never needs npm).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace orchard {

struct UiAsset {
  std::string_view path;          // relative to ui/: "index.html", "src/main.js", "vendor/uPlot.esm.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8", ...
  std::string_view body;          // the file's bytes (index.html with the build id filled in)
  std::string_view etag;          // a quoted strong ETag from the bytes' SHA-256
};

// The asset at `path` (relative to ui/, no leading slash), or null when there is none.
const UiAsset* find_ui_asset(std::string_view path);

// A digest of every embedded asset (12 hex digits). index.html loads the other files from
// /ui/<build id>/..., so a new build changes every URL and the files can be cached forever.
std::string_view ui_build_id();

// Every embedded asset, sorted by path.
std::span<const UiAsset> ui_assets();

}  // namespace orchard
