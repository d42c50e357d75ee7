// The embedded web UI (src/ui): every file of ui/ is there with its content type and ETag, and
// index.html names this build's asset URLs.
#include "ui/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace orchard {
namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(ORCHARD_SOURCE_DIR) + "/ui/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(UiAssets, IndexNamesThisBuildsAssets) {
  const UiAsset* index = find_ui_asset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->body.find("%ORCHARD_UI_BUILD%"), std::string_view::npos) << "the build id was not filled in";
  const std::string build(ui_build_id());
  ASSERT_EQ(build.size(), 12u);
  EXPECT_NE(index->body.find("/ui/" + build + "/src/main.js"), std::string_view::npos);
  EXPECT_NE(index->body.find("/ui/" + build + "/app.css"), std::string_view::npos);
}

TEST(UiAssets, FilesAreEmbeddedByteForByte) {
  for (const char* path : {"src/main.js", "src/pages/overview.js", "app.css", "vendor/uPlot.esm.js", "vendor/uPlot.min.css"}) {
    const UiAsset* asset = find_ui_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    const std::string source = read_source(path);
    ASSERT_FALSE(source.empty()) << path;
    EXPECT_EQ(asset->body, source) << path;
  }
}

TEST(UiAssets, ContentTypesAndETags) {
  EXPECT_EQ(find_ui_asset("src/main.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_ui_asset("app.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_ui_asset("favicon.svg")->content_type, "image/svg+xml");
  for (const UiAsset& asset : ui_assets()) {
    ASSERT_GE(asset.etag.size(), 3u) << asset.path;
    EXPECT_EQ(asset.etag.front(), '"') << asset.path;
    EXPECT_EQ(asset.etag.back(), '"') << asset.path;
  }
}

TEST(UiAssets, OnlyTheAppIsEmbedded) {
  EXPECT_EQ(find_ui_asset("package.json"), nullptr);
  EXPECT_EQ(find_ui_asset("tests/run.mjs"), nullptr);
  EXPECT_EQ(find_ui_asset("node_modules/uplot/dist/uPlot.esm.js"), nullptr);
  EXPECT_EQ(find_ui_asset(""), nullptr);
  EXPECT_EQ(find_ui_asset("/index.html"), nullptr);
  const auto all = ui_assets();
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].path, all[i].path) << "sorted, for the binary search";
}

}  // namespace
}  // namespace orchard
