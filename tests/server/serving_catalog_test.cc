// The serving catalog: snapshots swap atomically, versions in use survive a swap, dropped versions
// free their memory.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <unistd.h>

#include "registry/registry.h"
#include "server/serving_catalog.h"
#include "support/test_support.h"

namespace orchard {
namespace {

long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::unique_ptr<Registry> fresh_registry(const std::string& name) {
  return Registry::open_local(testing::temp_dir() + "/catalog-" + name, "test");
}

// An endpoint of arms with these targets and weights (no versions: pick() needs none).
ServedEndpoint endpoint_of(const std::string& name, const std::vector<std::pair<std::string, double>>& weights) {
  ServedEndpoint endpoint;
  endpoint.name = name;
  for (const auto& [target, weight] : weights) {
    endpoint.total_weight += weight;
    ServedEndpoint::Arm arm;
    arm.target = target;
    arm.upper = endpoint.total_weight;
    endpoint.arms.push_back(arm);
  }
  return endpoint;
}

std::vector<std::string> sticky_picks(const ServedEndpoint& endpoint, int keys) {
  std::vector<std::string> out;
  for (int k = 0; k < keys; ++k) out.push_back(endpoint.pick("user-" + std::to_string(k), 0.0).target);
  return out;
}

TEST(ServedEndpoint, StickyKeysSplitByWeight) {
  constexpr int kKeys = 20000;
  const auto picks = sticky_picks(endpoint_of("shop", {{"a", 0.8}, {"b", 0.1}, {"c", 0.1}}), kKeys);
  std::map<std::string, int> count;
  for (const auto& arm : picks) ++count[arm];
  EXPECT_NEAR(count["a"], 0.8 * kKeys, 0.015 * kKeys);
  EXPECT_NEAR(count["b"], 0.1 * kKeys, 0.01 * kKeys);
  EXPECT_NEAR(count["c"], 0.1 * kKeys, 0.01 * kKeys);
  EXPECT_EQ(picks, sticky_picks(endpoint_of("shop", {{"a", 0.8}, {"b", 0.1}, {"c", 0.1}}), kKeys)) << "the same key, the same arm";
}

// 80/10/10 to 70/15/15: users leave a only, for b or c; none moves between b and c.
TEST(ServedEndpoint, ChangingWeightsMovesOnlyTheKeysItMust) {
  constexpr int kKeys = 20000;
  const auto before = sticky_picks(endpoint_of("shop", {{"a", 80}, {"b", 10}, {"c", 10}}), kKeys);
  const auto after = sticky_picks(endpoint_of("shop", {{"a", 70}, {"b", 15}, {"c", 15}}), kKeys);
  int moved = 0;
  for (int k = 0; k < kKeys; ++k) {
    if (before[k] == after[k]) continue;
    ++moved;
    EXPECT_EQ(before[k], "a") << "user-" << k << " moved from " << before[k] << " to " << after[k];
  }
  EXPECT_NEAR(moved, 0.1 * kKeys, 0.015 * kKeys) << "a tenth of the users had to move";
}

// The same users are not in the same arm of every endpoint.
TEST(ServedEndpoint, EndpointsSplitUsersIndependently) {
  constexpr int kKeys = 20000;
  const auto shop = sticky_picks(endpoint_of("shop", {{"a", 0.5}, {"b", 0.5}}), kKeys);
  const auto churn = sticky_picks(endpoint_of("churn", {{"a", 0.5}, {"b", 0.5}}), kKeys);
  int same = 0;
  for (int k = 0; k < kKeys; ++k) same += shop[k] == churn[k];
  EXPECT_NEAR(same, 0.5 * kKeys, 0.02 * kKeys);
}

TEST(ServingCatalog, ServesProductionElseLatestAndSwapsOnRefresh) {
  auto registry = fresh_registry("swap");
  const std::string churn = testing::source_dir() + "/examples/churn/";
  registry->push("churn", churn + "churn_xgboost.ubj", {});
  registry->push("churn", churn + "churn_lightgbm.txt", {});
  ServingCatalog catalog(*registry);
  catalog.refresh();
  auto first = catalog.current();
  ASSERT_EQ(first->endpoints.count("churn"), 1u);
  EXPECT_EQ(first->endpoints.at("churn").arms.front().version->number, 2) << "latest without a production alias";

  registry->promote("churn", 1, "production");
  catalog.refresh();
  auto second = catalog.current();
  EXPECT_GT(second->generation, first->generation);
  EXPECT_EQ(second->endpoints.at("churn").arms.front().version->number, 1);
  // The old snapshot is untouched: a request that started on it still has version 2.
  EXPECT_EQ(first->endpoints.at("churn").arms.front().version->number, 2);
  EXPECT_NE(first->endpoints.at("churn").arms.front().version->predictor, nullptr);
}

TEST(ServingCatalog, AVersionInUseOutlivesTheSwapAndIsFreedAfter) {
  auto registry = fresh_registry("lifetime");
  const std::string churn = testing::source_dir() + "/examples/churn/";
  registry->push("churn", churn + "churn_xgboost.ubj", {});
  registry->push("churn", churn + "churn_lightgbm.txt", {});
  registry->promote("churn", 1, "production");
  ServingCatalog catalog(*registry);
  catalog.refresh();
  std::weak_ptr<const LoadedVersion> watch;
  {
    std::shared_ptr<const LoadedVersion> in_use = catalog.current()->endpoints.at("churn").arms.front().version;
    watch = in_use;
    registry->promote("churn", 2, "production");
    catalog.refresh();
    catalog.current();  // this thread moves to the new snapshot
    EXPECT_FALSE(watch.expired()) << "still used by the request holding it";
    std::vector<double> row(6, 1.0);
    double out = 0;
    in_use->predictor->predict_row(row.data(), &out, false);
  }
  EXPECT_TRUE(watch.expired()) << "freed when its last user ended";
}

// Versions asked for by number (no route serves them) are kept, at most 8 of them; the one asked
// for least recently goes first, so a version in steady use is never reloaded.
TEST(ServingCatalog, VersionsAskedForByNumberAreEvictedLeastRecentlyUsedFirst) {
  auto registry = fresh_registry("pinned");
  const std::string iris = testing::source_dir() + "/examples/iris/iris_xgboost.json";
  for (int i = 0; i < 12; ++i) registry->push("iris", iris, {});
  registry->promote("iris", 12, "production");
  ServingCatalog catalog(*registry);
  catalog.refresh();
  const auto steady = catalog.version("iris", 1);
  std::weak_ptr<const LoadedVersion> second;
  for (std::int64_t v = 2; v <= 11; ++v) {
    const auto asked = catalog.version("iris", v);
    if (v == 2) second = asked;
    EXPECT_EQ(catalog.version("iris", 1), steady) << "version 1, asked for between every other, was reloaded after " << v;
  }
  EXPECT_TRUE(second.expired()) << "version 2, not asked for since, was evicted";
  EXPECT_EQ(catalog.current()->versions.size(), 9u) << "8 pinned and the one production serves";
}

TEST(ServingCatalog, MemoryComesBackAfterLoadUnloadCycles) {
  const auto fixtures = testing::fixtures_dir();
  const std::string large = fixtures ? *fixtures + "/models/xgboost/higgs_large.ubj" : testing::source_dir() + "/examples/churn/churn_lightgbm.txt";
  auto registry = fresh_registry("memory");
  registry->push("m", testing::source_dir() + "/examples/iris/iris_xgboost.json", {});
  registry->push("m", large, {});
  ServingCatalog catalog(*registry);
  long after_first = 0;
  for (int cycle = 0; cycle < 50; ++cycle) {
    registry->promote("m", 2, "production");  // load the large model
    catalog.refresh();
    catalog.current();
    registry->promote("m", 1, "production");  // drop it
    catalog.refresh();
    catalog.current();
    if (cycle == 0) after_first = resident_kib();
  }
  const long after_last = resident_kib();
  EXPECT_LE(after_last, after_first + after_first / 10) << "RSS grew from " << after_first << " KiB to " << after_last << " KiB";
}

}  // namespace
}  // namespace orchard
