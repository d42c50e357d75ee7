// API keys: token format, roles and what they grant, endpoint scope, expiry, revocation, rate
// limits, and keys stored in the registry (only their digest) with an audit event each.
#include <gtest/gtest.h>

#include <ctime>
#include <thread>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "auth/rate_limiter.h"
#include "registry/sqlite_store.h"
#include "support/test_support.h"

namespace orchard {
namespace {

TEST(ApiKey, TokensAreWellFormedAndOnlyTheirDigestIsKept) {
  const NewApiKey key = generate_api_key("shop", "predictor", {"churn"}, 0, 0, "test");
  const auto parsed = parse_api_token(key.token);
  ASSERT_TRUE(parsed) << key.token;
  EXPECT_EQ(parsed->id, key.record.id);
  EXPECT_EQ(key.record.secret_sha256, api_secret_digest(parsed->secret));
  EXPECT_EQ(key.token.find(key.record.secret_sha256), std::string::npos);
  EXPECT_NE(generate_api_key("a", "viewer", {}, 0, 0, "t").token, generate_api_key("a", "viewer", {}, 0, 0, "t").token);
  for (const char* bad : {"", "ork_", "ork_1234567_", "xrk_12345678_" "0000000000000000000000000000000000000000000000000000000000000000",
                          "ork_1234567g_0000000000000000000000000000000000000000000000000000000000000000",
                          "ork_12345678_00000000000000000000000000000000000000000000000000000000000000"}) {
    EXPECT_FALSE(parse_api_token(bad)) << bad;
  }
}

TEST(Role, WhatEachRoleMayDo) {
  for (Access a : {Access::kPublic, Access::kMetadata, Access::kRead, Access::kPredict, Access::kFeedback, Access::kDeploy, Access::kAdmin}) {
    EXPECT_TRUE(role_allows(Role::kAdmin, a)) << access_name(a);
  }
  EXPECT_TRUE(role_allows(Role::kDeployer, Access::kDeploy));
  EXPECT_FALSE(role_allows(Role::kDeployer, Access::kAdmin));
  EXPECT_TRUE(role_allows(Role::kPredictor, Access::kPredict));
  EXPECT_TRUE(role_allows(Role::kPredictor, Access::kFeedback));
  EXPECT_FALSE(role_allows(Role::kPredictor, Access::kRead));
  EXPECT_FALSE(role_allows(Role::kPredictor, Access::kDeploy));
  EXPECT_TRUE(role_allows(Role::kViewer, Access::kRead));
  EXPECT_FALSE(role_allows(Role::kViewer, Access::kPredict));
  EXPECT_FALSE(role_allows(Role::kViewer, Access::kFeedback));
  EXPECT_EQ(parse_role("deployer"), Role::kDeployer);
  EXPECT_FALSE(parse_role("root"));
}

TEST(TokenBucket, AllowsTheBurstThenTheRate) {
  TokenBucket bucket(10, 20);
  const auto start = std::chrono::steady_clock::now();
  double retry = 0;
  int taken = 0;
  while (bucket.take(start, retry)) ++taken;
  EXPECT_EQ(taken, 20);
  EXPECT_NEAR(retry, 0.1, 1e-9);
  EXPECT_FALSE(bucket.take(start + std::chrono::milliseconds(50), retry));
  EXPECT_TRUE(bucket.take(start + std::chrono::milliseconds(110), retry));
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::make_unique<SqliteStore>(testing::temp_dir() + "/auth-" + std::to_string(counter_++) + ".db"); }
  std::string add(const std::string& role, std::vector<std::string> endpoints = {}, std::int64_t expires_at = 0, double rate = 0) {
    NewApiKey key = generate_api_key(role + "-key", role, std::move(endpoints), expires_at, rate, "test");
    store_->create_key(key.record, "test");
    ids_.push_back(key.record.id);
    return "Bearer " + key.token;
  }
  static inline int counter_ = 0;
  std::unique_ptr<SqliteStore> store_;
  std::vector<std::string> ids_;
};

TEST_F(AuthenticatorTest, DecidesByKeyRoleAndScope) {
  const std::string admin = add("admin"), viewer = add("viewer"), shop = add("predictor", {"churn"}), any = add("predictor");
  Authenticator auth(*store_);
  EXPECT_EQ(auth.usable_keys(), 4u);
  EXPECT_EQ(auth.check("", Access::kPublic, "").status, 200);
  EXPECT_EQ(auth.check("", Access::kRead, "").status, 401);
  EXPECT_EQ(auth.check("Basic abc", Access::kRead, "").status, 401);
  EXPECT_EQ(auth.check("Bearer nonsense", Access::kRead, "").status, 401);
  std::string forged = admin;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(auth.check(forged, Access::kRead, "").status, 401) << "same id, wrong secret";

  const auto ok = auth.check(admin, Access::kAdmin, "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.key_name, "admin-key");
  EXPECT_EQ(auth.check(viewer, Access::kRead, "").status, 200);
  EXPECT_EQ(auth.check(viewer, Access::kPredict, "churn").status, 403);
  EXPECT_EQ(auth.check(shop, Access::kPredict, "churn").status, 200);
  EXPECT_EQ(auth.check(shop, Access::kMetadata, "churn").status, 200);
  EXPECT_EQ(auth.check(shop, Access::kPredict, "iris").status, 403) << "outside its endpoints";
  EXPECT_EQ(auth.check(shop, Access::kMetadata, "iris").status, 403);
  EXPECT_EQ(auth.check(any, Access::kPredict, "iris").status, 200);
  EXPECT_EQ(auth.check(any, Access::kDeploy, "").status, 403);
}

TEST_F(AuthenticatorTest, ExpiredAndRevokedKeysAreRefusedAfterAReload) {
  const std::string soon = add("viewer", {}, static_cast<std::int64_t>(std::time(nullptr)) + 1);
  const std::string revoked = add("viewer");
  Authenticator auth(*store_);
  EXPECT_EQ(auth.check(revoked, Access::kRead, "").status, 200);
  store_->revoke_key(ids_[1], "test");
  EXPECT_EQ(auth.check(revoked, Access::kRead, "").status, 200) << "in memory until reloaded";
  auth.reload();
  const auto refused = auth.check(revoked, Access::kRead, "");
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.message.find("revoked"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto expired = auth.check(soon, Access::kRead, "");
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.message.find("expired"), std::string::npos);
  EXPECT_EQ(auth.usable_keys(), 0u);
}

TEST_F(AuthenticatorTest, RateLimitsPerKeySurviveReloads) {
  const std::string limited = add("predictor", {}, 0, 1.0), free = add("predictor");
  Authenticator auth(*store_);
  EXPECT_EQ(auth.check(limited, Access::kPredict, "churn").status, 200);
  EXPECT_EQ(auth.check(limited, Access::kPredict, "churn").status, 200);  // burst of 2
  auth.reload();
  const auto over = auth.check(limited, Access::kPredict, "churn");
  EXPECT_EQ(over.status, 429);
  EXPECT_GT(over.retry_after_seconds, 0);
  EXPECT_LE(over.retry_after_seconds, 1.0);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(auth.check(free, Access::kPredict, "churn").status, 200);
}

TEST_F(AuthenticatorTest, KeysAreAuditedAndStoredWithoutSecrets) {
  add("deployer");
  EXPECT_THROW(store_->create_key(store_->list_keys()[0], "test"), Error) << "ids are unique";
  const auto key = store_->revoke_key(ids_[0], "admin:me");
  EXPECT_FALSE(key.revoked_at.empty());
  EXPECT_EQ(store_->revoke_key(ids_[0], "admin:me").revoked_at, key.revoked_at) << "revoking twice keeps the first time";
  EXPECT_THROW(store_->revoke_key("00000000", "x"), Error);
  const auto events = store_->audit_log("key:" + ids_[0], 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].action, "revoke_key");
  EXPECT_EQ(events[0].actor, "admin:me");
  EXPECT_EQ(events[1].action, "create_key");
  EXPECT_EQ(events[1].after_json.find(store_->list_keys()[0].secret_sha256), std::string::npos) << "the digest is not in the audit log";
}

}  // namespace
}  // namespace orchard
