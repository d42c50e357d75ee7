// GET / and /ui/...: the server answers with the embedded UI, cache headers and ETags (through the
// real `orchard serve`).
#include <gtest/gtest.h>

#include <string>

#include "server/server_fixture.h"
#include "ui/assets.h"

namespace orchard::testing {
namespace {

class WebUiTest : public DemoServerTest {};

TEST_F(WebUiTest, RootServesTheIndexUncached) {
  const Response response = client_->get("/");
  ASSERT_EQ(response.status, 200) << describe(response);
  EXPECT_EQ(response.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(response.header("cache-control"), "no-cache");
  EXPECT_NE(response.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(response.body.find("/ui/" + std::string(ui_build_id()) + "/src/main.js"), std::string::npos);
  EXPECT_EQ(client_->get("/ui/").body, response.body);
}

TEST_F(WebUiTest, VersionedAssetsAreImmutable) {
  const std::string build(ui_build_id());
  const Response response = client_->get("/ui/" + build + "/src/main.js");
  ASSERT_EQ(response.status, 200) << describe(response);
  EXPECT_EQ(response.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(response.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(response.body, find_ui_asset("src/main.js")->body);
  const Response chart = client_->get("/ui/" + build + "/vendor/uPlot.esm.js");
  ASSERT_EQ(chart.status, 200);
  EXPECT_NE(chart.body.find("uPlot"), std::string::npos);
}

TEST_F(WebUiTest, UnversionedAndStaleUrlsAreShortLived) {
  const Response plain = client_->get("/ui/app.css");
  ASSERT_EQ(plain.status, 200) << describe(plain);
  EXPECT_EQ(plain.header("cache-control"), "public, max-age=300");
  const Response stale = client_->get("/ui/000000000000/app.css");
  ASSERT_EQ(stale.status, 200) << describe(stale);
  EXPECT_EQ(stale.header("cache-control"), "no-cache") << "another build's URL must not be cached as that build's";
  EXPECT_EQ(stale.body, plain.body);
}

TEST_F(WebUiTest, ETagAnswers304) {
  const Response first = client_->get("/");
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  const Response again = client_->request("GET", "/", "", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304) << describe(again);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(client_->request("GET", "/", "", {{"if-none-match", "\"other\""}}).status, 200);
}

TEST_F(WebUiTest, UnknownFilesAndOtherMethodsAreRefused) {
  EXPECT_TRUE(is_json_error(client_->get("/ui/" + std::string(ui_build_id()) + "/nope.js"), 404));
  EXPECT_TRUE(is_json_error(client_->get("/ui/package.json"), 404));
  EXPECT_TRUE(is_json_error(client_->post("/", "{}"), 405));
  // The API is unchanged beside the UI.
  EXPECT_EQ(client_->get("/api/v1/models").status, 200);
}

}  // namespace
}  // namespace orchard::testing
