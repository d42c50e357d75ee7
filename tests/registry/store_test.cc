// The Store contract (registry/store.h), run against every backend.
//
// The suite is value-parameterized over a factory `make_store(dir)`: a new backend (PostgreSQL) is
// tested by adding one Backend entry to the INSTANTIATE_TEST_SUITE_P below. `dir` is a fresh empty
// folder per test (a server-backed store can use its name as a schema or database name); calling the
// factory twice with the same `dir` must give two handles (connections) on the same registry.
#include "registry/store.h"

#include <gtest/gtest.h>

#include <map>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "registry/postgres_database.h"
#include "registry/postgres_store.h"
#include "registry/sqlite_store.h"
#include "support/test_support.h"

namespace orchard {
namespace {
using testing::kind_name;
namespace fs = std::filesystem;
using nlohmann::json;

// --- backends ----------------------------------------------------------------------------------

using StoreFactory = std::unique_ptr<Store> (*)(const std::string& dir);

std::unique_ptr<Store> make_sqlite_store(const std::string& dir) { return std::make_unique<SqliteStore>(dir + "/registry.db"); }

// PostgreSQL: $ORCHARD_TEST_POSTGRES names a server (scripts/test.sh starts a throwaway cluster);
// each test directory gets its own database, created on first use and dropped at exit.
using testing::postgres_url;

std::unique_ptr<Store> make_postgres_store(const std::string& dir) {
  static std::map<std::string, std::string> urls;
  auto it = urls.find(dir);
  if (it == urls.end()) it = urls.emplace(dir, testing::fresh_postgres_database(dir)).first;
  return std::make_unique<PostgresStore>(it->second);
}

struct Backend {
  const char* name;
  StoreFactory make_store;
};
void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }

std::string fresh_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const std::string dir = testing::temp_dir() + "/" + tag + "-" + std::to_string(counter++);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().make_store == make_postgres_store && postgres_url().empty()) {
      GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set (scripts/test.sh starts a PostgreSQL cluster)";
    }
    dir_ = fresh_dir(std::string("store-") + GetParam().name);
    store_ = make_store();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<Store> make_store() { return GetParam().make_store(dir_); }
  Store& store() { return *store_; }
  // Closes the handle and opens a new one on the same registry.
  void reopen() {
    store_.reset();
    store_ = make_store();
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

// --- helpers -----------------------------------------------------------------------------------

std::string digest(char c) { return std::string(64, c); }

VersionDraft minimal_draft(const std::string& model, const std::string& sha = digest('a')) {
  VersionDraft d;
  d.model = model;
  d.artifact_sha256 = sha;
  d.format = "xgboost-json";
  d.artifact_size = 1234;
  d.schema_json = R"({"features":[{"name":"x","type":"numeric"}],"outputs":["prediction"]})";
  d.load_check = "ok: 1 tree";
  d.source_path = "/models/" + model + ".json";
  return d;
}

VersionDraft full_draft(const std::string& model) {
  VersionDraft d = minimal_draft(model, digest('f'));
  d.format = "lightgbm-text";
  d.artifact_size = 5'000'000'000;  // more than 32 bits
  d.load_check = "ok: 500 trees (500 complete, depth <= 6; 0 general), float32 inputs";
  d.source_path = "/data/my models/\xc3\xa9t\xc3\xa9/churn.txt";
  d.git_commit = "0123456789abcdef0123456789abcdef01234567";
  d.description = "line one\nline \"two\" with 'quotes', a backslash \\ and \xe2\x82\xac";
  d.metrics = {{"auc", 0.93123456789012345},
               {"logloss", 1e-300},
               {"negative", -3.5},
               {"huge", 1.7976931348623157e308},
               {"zero", 0.0},
               {"tiny", 4.9406564584124654e-324}};
  d.params = {{"eta", "0.1"}, {"max_depth", "6"}, {"objective", "binary:logistic"}, {"empty", ""}};
  d.tags = {{"team", "risk & fraud"}, {"owner", "\xc3\xa9lise"}, {"ticket", "JIRA-42"}, {"blank", ""}};
  d.dataset = DatasetFingerprint{digest('d'), 123'456'789'012, 7, "/data/train set \xc3\xa9.csv"};
  json profile = {{"format", 1}, {"rows", 123456789012}, {"features", json::array()}};
  for (int f = 0; f < 300; ++f) {
    profile["features"].push_back({{"name", "feature \"" + std::to_string(f) + "\""},
                                   {"edges", {0.1, 0.2, 0.30000000000000004}},
                                   {"counts", {1, 2, 3, 4}}});
  }
  d.profile_json = profile.dump();
  d.schema_json = R"({"features":[{"name":"age","type":"numeric"},{"name":"plan","type":"categorical","categories":[0,1,2]}],)"
                  R"("named":true,"outputs":["prediction"],"objective":"binary","format":"lightgbm-text"})";
  return d;
}

void expect_same_draft(const VersionDraft& actual, const VersionDraft& expected, bool mutable_fields_too = true) {
  EXPECT_EQ(actual.model, expected.model);
  EXPECT_EQ(actual.artifact_sha256, expected.artifact_sha256);
  EXPECT_EQ(actual.format, expected.format);
  EXPECT_EQ(actual.artifact_size, expected.artifact_size);
  EXPECT_EQ(actual.schema_json, expected.schema_json);
  EXPECT_EQ(actual.load_check, expected.load_check);
  EXPECT_EQ(actual.source_path, expected.source_path);
  EXPECT_EQ(actual.git_commit, expected.git_commit);
  EXPECT_EQ(actual.metrics, expected.metrics);  // exact: doubles round-trip bit for bit
  EXPECT_EQ(actual.params, expected.params);
  ASSERT_EQ(actual.dataset.has_value(), expected.dataset.has_value());
  if (expected.dataset) {
    EXPECT_EQ(actual.dataset->sha256, expected.dataset->sha256);
    EXPECT_EQ(actual.dataset->rows, expected.dataset->rows);
    EXPECT_EQ(actual.dataset->columns, expected.dataset->columns);
    EXPECT_EQ(actual.dataset->path, expected.dataset->path);
  }
  EXPECT_EQ(actual.profile_json, expected.profile_json);
  if (mutable_fields_too) {
    EXPECT_EQ(actual.description, expected.description);
    EXPECT_EQ(actual.tags, expected.tags);
  }
}

bool is_utc_timestamp(const std::string& text) {
  static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)");
  return std::regex_match(text, pattern);
}

std::vector<std::int64_t> numbers_of(const std::vector<VersionRecord>& versions) {
  std::vector<std::int64_t> out;
  for (const auto& v : versions) out.push_back(v.number);
  return out;
}

json parse_or_null(const std::string& text) { return text.empty() ? json() : json::parse(text); }

// --- version numbering ---------------------------------------------------------------------------

TEST_P(StoreTest, CreateVersionNumbersFromOnePerModelIndependently) {
  EXPECT_EQ(store().create_version(minimal_draft("churn"), "alice").number, 1);
  EXPECT_EQ(store().create_version(minimal_draft("churn"), "alice").number, 2);
  EXPECT_EQ(store().create_version(minimal_draft("iris"), "bob").number, 1);
  EXPECT_EQ(store().create_version(minimal_draft("churn"), "alice").number, 3);
  EXPECT_EQ(store().create_version(minimal_draft("iris"), "bob").number, 2);

  ASSERT_TRUE(store().find_model("churn"));
  EXPECT_EQ(store().find_model("churn")->latest_version, 3);
  EXPECT_EQ(store().find_model("iris")->latest_version, 2);
  EXPECT_EQ(numbers_of(store().list_versions("churn")), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(numbers_of(store().list_versions("iris")), (std::vector<std::int64_t>{1, 2}));
}

TEST_P(StoreTest, CreatedVersionCarriesItsNumberActorTimeAndDefaults) {
  const VersionRecord v = store().create_version(minimal_draft("churn"), "alice");
  EXPECT_EQ(v.model, "churn");
  EXPECT_EQ(v.number, 1);
  EXPECT_EQ(v.created_by, "alice");
  EXPECT_TRUE(is_utc_timestamp(v.created_at)) << v.created_at;
  EXPECT_FALSE(v.archived);
  EXPECT_EQ(v.evaluation_json, "");

  const auto found = store().find_version("churn", 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->created_at, v.created_at);
  EXPECT_EQ(found->created_by, "alice");

  const auto model = store().find_model("churn");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->created_by, "alice");
  EXPECT_TRUE(is_utc_timestamp(model->created_at)) << model->created_at;
  EXPECT_EQ(model->description, "");
  EXPECT_TRUE(model->tags.empty());
}

TEST_P(StoreTest, NumbersAreNeverReused) {
  for (int i = 0; i < 3; ++i) store().create_version(minimal_draft("churn"), "alice");
  VersionUpdate archive;
  archive.archived = true;
  store().update_version("churn", 3, archive, "alice");
  EXPECT_EQ(store().create_version(minimal_draft("churn"), "alice").number, 4);
  EXPECT_EQ(store().find_model("churn")->latest_version, 4);

  reopen();
  EXPECT_EQ(store().find_model("churn")->latest_version, 4);
  EXPECT_EQ(store().create_version(minimal_draft("churn"), "alice").number, 5);
  EXPECT_EQ(store().find_model("churn")->latest_version, 5);
  EXPECT_EQ(numbers_of(store().list_versions("churn")), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(store().find_version("churn", 3)->archived);
}

// --- finding and listing -------------------------------------------------------------------------

TEST_P(StoreTest, FindAndListModels) {
  EXPECT_TRUE(store().list_models().empty());
  EXPECT_FALSE(store().find_model("churn"));

  store().create_version(minimal_draft("zeta"), "alice");
  store().create_version(minimal_draft("alpha"), "bob");
  store().create_version(minimal_draft("alpha"), "carol");
  store().create_version(minimal_draft("Alpha"), "dave");
  store().create_version(minimal_draft("mid.v2"), "erin");

  const auto models = store().list_models();
  std::vector<std::string> names;
  for (const auto& m : models) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Alpha", "alpha", "mid.v2", "zeta"}));  // by name, case-sensitive

  const auto alpha = store().find_model("alpha");
  ASSERT_TRUE(alpha);
  EXPECT_EQ(alpha->name, "alpha");
  EXPECT_EQ(alpha->created_by, "bob");  // the actor that created it, not the last pusher
  EXPECT_EQ(alpha->latest_version, 2);
  EXPECT_EQ(store().find_model("Alpha")->latest_version, 1);
  EXPECT_FALSE(store().find_model("ALPHA"));
  EXPECT_FALSE(store().find_model("alph"));
  EXPECT_FALSE(store().find_model(""));
}

TEST_P(StoreTest, FindAndListVersions) {
  store().create_version(minimal_draft("churn", digest('1')), "alice");
  store().create_version(minimal_draft("iris", digest('9')), "alice");
  store().create_version(minimal_draft("churn", digest('2')), "alice");
  store().create_version(minimal_draft("churn", digest('3')), "alice");

  const auto versions = store().list_versions("churn");
  ASSERT_EQ(versions.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(versions[i].model, "churn");
    EXPECT_EQ(versions[i].number, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(versions[i].artifact_sha256, digest(static_cast<char>('1' + i)));
  }
  ASSERT_EQ(store().list_versions("iris").size(), 1u);
  EXPECT_EQ(store().list_versions("iris")[0].artifact_sha256, digest('9'));

  const auto second = store().find_version("churn", 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->artifact_sha256, digest('2'));
  EXPECT_FALSE(store().find_version("churn", 0));
  EXPECT_FALSE(store().find_version("churn", -1));
  EXPECT_FALSE(store().find_version("churn", 4));
  EXPECT_FALSE(store().find_version("iris", 2));
  EXPECT_FALSE(store().find_version("nope", 1));
  EXPECT_TRUE(store().list_versions("nope").empty());
}

// --- the draft round-trips ------------------------------------------------------------------------

TEST_P(StoreTest, EveryDraftFieldRoundTrips) {
  const VersionDraft draft = full_draft("churn");
  const VersionRecord created = store().create_version(draft, "alice");
  expect_same_draft(created, draft);

  const auto found = store().find_version("churn", 1);
  ASSERT_TRUE(found);
  expect_same_draft(*found, draft);
  ASSERT_EQ(store().list_versions("churn").size(), 1u);
  expect_same_draft(store().list_versions("churn")[0], draft);

  reopen();
  const auto reopened = store().find_version("churn", 1);
  ASSERT_TRUE(reopened);
  expect_same_draft(*reopened, draft);
  EXPECT_TRUE(std::signbit(reopened->metrics.at("negative")));
}

TEST_P(StoreTest, DraftWithoutDatasetHasNoFingerprintOrProfile) {
  VersionDraft draft = minimal_draft("churn");
  store().create_version(draft, "alice");
  const auto found = store().find_version("churn", 1);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->dataset.has_value());
  EXPECT_EQ(found->profile_json, "");
  EXPECT_TRUE(found->metrics.empty());
  EXPECT_TRUE(found->params.empty());
  EXPECT_TRUE(found->tags.empty());
  expect_same_draft(*found, draft);
}

// A metric that JSON cannot hold (NaN, infinity) must either be refused when the version is created
// or read back; it must never make the model's versions unreadable.
// BUG (reported, not fixed): NaN/inf metrics are stored as JSON null and every later read of the
// model throws nlohmann::type_error. Enable when fixed.
TEST_P(StoreTest, NonFiniteMetricNeverMakesTheModelUnreadable) {
  for (double value : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    VersionDraft draft = minimal_draft("churn");
    draft.metrics = {{"auc", value}};
    bool created = false;
    try {
      store().create_version(draft, "alice");
      created = true;
    } catch (const Error& e) {
      EXPECT_STREQ(kind_name(e.kind()), kind_name(ErrorKind::kInvalidArgument)) << e.what();
    }
    std::vector<VersionRecord> versions;
    EXPECT_NO_THROW(versions = store().list_versions("churn")) << "metric " << value;
    if (created && !versions.empty()) {
      const double back = versions.back().metrics.at("auc");
      EXPECT_TRUE(std::isnan(value) ? std::isnan(back) : back == value) << back;
    }
  }
}

// --- updates ---------------------------------------------------------------------------------------

TEST_P(StoreTest, UpdateModelSetsDescriptionAndTags) {
  store().create_version(minimal_draft("churn"), "alice");
  const ModelRecord before = *store().find_model("churn");

  ModelUpdate first;
  first.description = "predicts churn";
  first.set_tags = {{"team", "risk"}, {"stage", "dev"}};
  store().update_model("churn", first, "bob");
  auto model = store().find_model("churn");
  EXPECT_EQ(model->description, "predicts churn");
  EXPECT_EQ(model->tags, (Tags{{"team", "risk"}, {"stage", "dev"}}));

  ModelUpdate second;  // no description: it stays
  second.set_tags = {{"stage", "prod"}};
  second.remove_tags = {"team", "never-set"};
  store().update_model("churn", second, "bob");
  model = store().find_model("churn");
  EXPECT_EQ(model->description, "predicts churn");
  EXPECT_EQ(model->tags, (Tags{{"stage", "prod"}}));

  ModelUpdate clear;
  clear.description = "";
  store().update_model("churn", clear, "bob");
  model = store().find_model("churn");
  EXPECT_EQ(model->description, "");
  EXPECT_EQ(model->tags, (Tags{{"stage", "prod"}}));

  // The rest of the model is untouched.
  EXPECT_EQ(model->created_at, before.created_at);
  EXPECT_EQ(model->created_by, "alice");
  EXPECT_EQ(model->latest_version, 1);
}

TEST_P(StoreTest, UpdateVersionChangesOnlyTheMutableFields) {
  VersionDraft draft = full_draft("churn");
  draft.tags = {{"a", "1"}, {"b", "2"}};
  const VersionRecord original = store().create_version(draft, "alice");
  store().create_version(minimal_draft("churn", digest('2')), "alice");

  VersionUpdate tags;
  tags.set_tags = {{"a", "10"}, {"c", "3"}};
  tags.remove_tags = {"b", "never-set"};
  tags.description = "retrained";
  const VersionRecord after_tags = store().update_version("churn", 1, tags, "bob");
  EXPECT_EQ(after_tags.tags, (Tags{{"a", "10"}, {"c", "3"}}));
  EXPECT_EQ(after_tags.description, "retrained");
  EXPECT_FALSE(after_tags.archived);

  VersionUpdate archive;
  archive.archived = true;
  EXPECT_TRUE(store().update_version("churn", 1, archive, "bob").archived);

  VersionUpdate evaluation;
  evaluation.evaluation_json = R"({"auc":0.91,"rows":1000})";
  store().update_version("churn", 1, evaluation, "bob");

  const auto found = store().find_version("churn", 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->tags, (Tags{{"a", "10"}, {"c", "3"}}));
  EXPECT_EQ(found->description, "retrained");
  EXPECT_TRUE(found->archived);
  EXPECT_EQ(json::parse(found->evaluation_json), json::parse(R"({"auc":0.91,"rows":1000})"));

  // Immutable: everything fixed at creation, the number, and who created it when.
  expect_same_draft(*found, draft, /*mutable_fields_too=*/false);
  EXPECT_EQ(found->number, 1);
  EXPECT_EQ(found->created_at, original.created_at);
  EXPECT_EQ(found->created_by, "alice");

  // The other version is untouched.
  const auto other = store().find_version("churn", 2);
  EXPECT_FALSE(other->archived);
  EXPECT_TRUE(other->tags.empty());
  EXPECT_EQ(other->evaluation_json, "");

  VersionUpdate unarchive;
  unarchive.archived = false;
  store().update_version("churn", 1, unarchive, "bob");
  EXPECT_FALSE(store().find_version("churn", 1)->archived);
  EXPECT_EQ(store().find_model("churn")->latest_version, 2);

  reopen();
  const auto reopened = store().find_version("churn", 1);
  EXPECT_EQ(reopened->tags, (Tags{{"a", "10"}, {"c", "3"}}));
  EXPECT_FALSE(reopened->archived);
  expect_same_draft(*reopened, draft, false);
}

TEST_P(StoreTest, UnknownModelOrVersionIsNotFound) {
  store().create_version(minimal_draft("churn"), "alice");
  VersionUpdate update;
  update.description = "x";
  ModelUpdate model_update;
  model_update.description = "x";
  EXPECT_ERROR_KIND(store().update_model("nope", model_update, "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().update_version("nope", 1, update, "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().update_version("churn", 2, update, "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().update_version("churn", 0, update, "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().set_alias("nope", "production", 1, "set", "bob"), ErrorKind::kNotFound);
  // Nothing was created by the failed calls.
  EXPECT_FALSE(store().find_model("nope"));
  EXPECT_EQ(store().list_models().size(), 1u);
  EXPECT_EQ(store().find_version("churn", 1)->description, "");
}

// --- aliases -------------------------------------------------------------------------------------

// A push with an alias registers the version and moves the alias in one transaction.
TEST_P(StoreTest, AVersionCreatedWithAnAliasHasItAtOnce) {
  store().create_version(minimal_draft("churn"), "alice", "production");
  const VersionRecord second = store().create_version(minimal_draft("churn"), "bob", "production");
  EXPECT_EQ(second.number, 2);
  EXPECT_EQ(store().find_alias("churn", "production")->version, 2);
  const auto history = store().alias_history("churn", "production");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].from_version, 1);
  EXPECT_EQ(history[1].by, "bob");
}

TEST_P(StoreTest, AliasesPointAtVersionsAndKeepTheirHistory) {
  for (int i = 0; i < 3; ++i) store().create_version(minimal_draft("churn"), "alice");
  store().create_version(minimal_draft("iris"), "alice");

  const AliasChange first = store().set_alias("churn", "production", 1, "set", "alice");
  EXPECT_EQ(first.alias, "production");
  EXPECT_EQ(first.from_version, 0);
  EXPECT_EQ(first.to_version, 1);
  EXPECT_EQ(first.kind, "set");
  EXPECT_EQ(first.by, "alice");
  EXPECT_TRUE(is_utc_timestamp(first.at)) << first.at;

  const AliasChange second = store().set_alias("churn", "production", 3, "set", "bob");
  EXPECT_EQ(second.from_version, 1);
  EXPECT_EQ(second.to_version, 3);

  const AliasChange back = store().set_alias("churn", "production", 1, "rollback", "carol");
  EXPECT_EQ(back.from_version, 3);
  EXPECT_EQ(back.to_version, 1);
  EXPECT_EQ(back.kind, "rollback");
  EXPECT_EQ(back.by, "carol");

  store().set_alias("churn", "staging", 2, "set", "dave");
  store().set_alias("iris", "production", 1, "set", "erin");

  const auto production = store().find_alias("churn", "production");
  ASSERT_TRUE(production);
  EXPECT_EQ(production->model, "churn");
  EXPECT_EQ(production->alias, "production");
  EXPECT_EQ(production->version, 1);
  EXPECT_EQ(production->updated_by, "carol");
  EXPECT_EQ(production->updated_at, back.at);
  EXPECT_EQ(store().find_alias("churn", "staging")->version, 2);
  EXPECT_EQ(store().find_alias("iris", "production")->version, 1);
  EXPECT_FALSE(store().find_alias("churn", "canary"));
  EXPECT_FALSE(store().find_alias("nope", "production"));

  const auto aliases = store().list_aliases("churn");
  ASSERT_EQ(aliases.size(), 2u);
  EXPECT_EQ(aliases[0].alias, "production");
  EXPECT_EQ(aliases[0].version, 1);
  EXPECT_EQ(aliases[1].alias, "staging");
  EXPECT_EQ(aliases[1].version, 2);
  EXPECT_EQ(store().list_aliases("iris").size(), 1u);
  EXPECT_TRUE(store().list_aliases("nope").empty());

  const auto history = store().alias_history("churn", "production");  // oldest first
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].from_version, 0);
  EXPECT_EQ(history[0].to_version, 1);
  EXPECT_EQ(history[0].kind, "set");
  EXPECT_EQ(history[0].by, "alice");
  EXPECT_EQ(history[1].from_version, 1);
  EXPECT_EQ(history[1].to_version, 3);
  EXPECT_EQ(history[1].kind, "set");
  EXPECT_EQ(history[1].by, "bob");
  EXPECT_EQ(history[2].from_version, 3);
  EXPECT_EQ(history[2].to_version, 1);
  EXPECT_EQ(history[2].kind, "rollback");
  EXPECT_EQ(history[2].by, "carol");
  for (const auto& change : history) EXPECT_EQ(change.alias, "production");
  EXPECT_LE(history[0].at, history[1].at);
  EXPECT_LE(history[1].at, history[2].at);

  ASSERT_EQ(store().alias_history("churn", "staging").size(), 1u);
  ASSERT_EQ(store().alias_history("iris", "production").size(), 1u);  // per model
  EXPECT_EQ(store().alias_history("iris", "production")[0].by, "erin");
  EXPECT_TRUE(store().alias_history("churn", "canary").empty());

  reopen();
  EXPECT_EQ(store().alias_history("churn", "production").size(), 3u);
  EXPECT_EQ(store().find_alias("churn", "production")->version, 1);
}

TEST_P(StoreTest, AliasToAMissingVersionIsNotFoundAndChangesNothing) {
  store().create_version(minimal_draft("churn"), "alice");
  store().set_alias("churn", "production", 1, "set", "alice");
  const std::size_t events = store().audit_log("", 1000).size();

  EXPECT_ERROR_KIND(store().set_alias("churn", "production", 2, "set", "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().set_alias("churn", "production", 0, "set", "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().set_alias("churn", "staging", 7, "set", "bob"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(store().set_alias("nope", "production", 1, "set", "bob"), ErrorKind::kNotFound);

  EXPECT_EQ(store().find_alias("churn", "production")->version, 1);
  EXPECT_FALSE(store().find_alias("churn", "staging"));
  EXPECT_EQ(store().alias_history("churn", "production").size(), 1u);
  EXPECT_TRUE(store().alias_history("churn", "staging").empty());
  EXPECT_EQ(store().audit_log("", 1000).size(), events);
}

// --- the audit log -------------------------------------------------------------------------------

TEST_P(StoreTest, AuditLogHasOneEventPerChangeNewestFirst) {
  store().create_version(minimal_draft("churn"), "alice");   // model.create churn, version.create churn:1
  store().create_version(minimal_draft("churn"), "alice");   // version.create churn:2
  store().create_version(minimal_draft("churnx"), "bob");    // model.create churnx, version.create churnx:1
  ModelUpdate model_update;
  model_update.description = "predicts churn";
  store().update_model("churn", model_update, "carol");      // model.update churn
  VersionUpdate tag;
  tag.set_tags = {{"team", "risk"}};
  store().update_version("churn", 1, tag, "carol");          // version.update churn:1
  VersionUpdate archive;
  archive.archived = true;
  store().update_version("churn", 2, archive, "carol");      // version.archive churn:2
  archive.archived = false;
  store().update_version("churn", 2, archive, "carol");      // version.unarchive churn:2
  VersionUpdate evaluation;
  evaluation.evaluation_json = R"({"auc":0.9})";
  store().update_version("churn", 1, evaluation, "erin");    // version.evaluate churn:1
  store().set_alias("churn", "production", 1, "set", "dave");       // alias.set churn@production
  store().set_alias("churn", "production", 2, "set", "dave");       // alias.set churn@production
  store().set_alias("churn", "production", 1, "rollback", "dave");  // alias.rollback churn@production
  // Failed changes leave no event.
  EXPECT_THROW(store().update_version("churn", 9, tag, "mallory"), Error);
  EXPECT_THROW(store().set_alias("churn", "production", 9, "set", "mallory"), Error);
  EXPECT_THROW(store().update_model("nope", model_update, "mallory"), Error);

  struct Expected {
    const char* actor;
    const char* action;
    const char* target;
  };
  const std::vector<Expected> expected = {  // newest first
      {"dave", "alias.rollback", "churn@production"}, {"dave", "alias.set", "churn@production"},
      {"dave", "alias.set", "churn@production"},      {"erin", "version.evaluate", "churn:1"},
      {"carol", "version.unarchive", "churn:2"},      {"carol", "version.archive", "churn:2"},
      {"carol", "version.update", "churn:1"},         {"carol", "model.update", "churn"},
      {"bob", "version.create", "churnx:1"},          {"bob", "model.create", "churnx"},
      {"alice", "version.create", "churn:2"},         {"alice", "version.create", "churn:1"},
      {"alice", "model.create", "churn"}};
  const auto events = store().audit_log("", 1000);
  ASSERT_EQ(events.size(), expected.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i) + " " + events[i].action + " " + events[i].target);
    EXPECT_EQ(events[i].actor, expected[i].actor);
    EXPECT_EQ(events[i].action, expected[i].action);
    EXPECT_EQ(events[i].target, expected[i].target);
    EXPECT_TRUE(is_utc_timestamp(events[i].at)) << events[i].at;
    if (i > 0) {
      EXPECT_LT(events[i].id, events[i - 1].id);
      EXPECT_LE(events[i].at, events[i - 1].at);
    }
    EXPECT_FALSE(events[i].after_json.empty());
    EXPECT_NO_THROW(parse_or_null(events[i].before_json));
    EXPECT_NO_THROW(parse_or_null(events[i].after_json));
  }

  // Before and after.
  auto at = [&](std::size_t i) { return std::pair{parse_or_null(events[i].before_json), parse_or_null(events[i].after_json)}; };
  {
    auto [before, after] = at(12);  // model.create churn
    EXPECT_TRUE(before.is_null());
    EXPECT_EQ(after["name"], "churn");
  }
  {
    auto [before, after] = at(11);  // version.create churn:1
    EXPECT_TRUE(before.is_null());
    EXPECT_EQ(after["model"], "churn");
    EXPECT_EQ(after["version"], 1);
    EXPECT_EQ(after["artifact"]["sha256"], digest('a'));
  }
  {
    auto [before, after] = at(7);  // model.update
    EXPECT_EQ(before["description"], "");
    EXPECT_EQ(after["description"], "predicts churn");
  }
  {
    auto [before, after] = at(6);  // version.update churn:1
    EXPECT_EQ(before["tags"], json::object());
    EXPECT_EQ(after["tags"], json({{"team", "risk"}}));
  }
  {
    auto [before, after] = at(5);  // version.archive churn:2
    EXPECT_EQ(before["archived"], false);
    EXPECT_EQ(after["archived"], true);
  }
  {
    auto [before, after] = at(3);  // version.evaluate churn:1
    EXPECT_TRUE(before["evaluation"].is_null());
    EXPECT_EQ(after["evaluation"]["auc"], 0.9);
  }
  {
    auto [before, after] = at(2);  // first alias.set
    EXPECT_TRUE(before.is_null());
    EXPECT_EQ(after["version"], 1);
  }
  {
    auto [before, after] = at(1);  // second alias.set
    EXPECT_EQ(before["version"], 1);
    EXPECT_EQ(after["version"], 2);
  }
  {
    auto [before, after] = at(0);  // rollback
    EXPECT_EQ(before["version"], 2);
    EXPECT_EQ(after["version"], 1);
  }
}

TEST_P(StoreTest, AuditLogFiltersByTargetPrefixAndLimits) {
  store().create_version(minimal_draft("churn"), "alice");
  store().create_version(minimal_draft("churn"), "alice");
  store().create_version(minimal_draft("churnx"), "alice");
  VersionUpdate archive;
  archive.archived = true;
  store().update_version("churn", 2, archive, "alice");
  store().set_alias("churn", "production", 1, "set", "alice");
  store().set_alias("churn", "production", 2, "set", "alice");
  // All: churn, churn:1, churn:2, churnx, churnx:1, churn:2 archive, churn@production x2.
  EXPECT_EQ(store().audit_log("", 1000).size(), 8u);

  auto targets = [&](const std::string& prefix, std::size_t limit) {
    std::vector<std::string> out;
    for (const auto& e : store().audit_log(prefix, limit)) out.push_back(e.target);
    return out;
  };
  EXPECT_EQ(targets("churn", 1000).size(), 6u);  // the model, its versions and aliases; not churnx's
  EXPECT_EQ(targets("churn:", 1000), (std::vector<std::string>{"churn:2", "churn:2", "churn:1"}));
  EXPECT_EQ(targets("churn:2", 1000), (std::vector<std::string>{"churn:2", "churn:2"}));
  EXPECT_EQ(targets("churn@", 1000), (std::vector<std::string>{"churn@production", "churn@production"}));
  EXPECT_EQ(targets("churn@production", 1000).size(), 2u);
  EXPECT_EQ(targets("churnx", 1000), (std::vector<std::string>{"churnx:1", "churnx"}));
  EXPECT_TRUE(targets("iris", 1000).empty());
  // The prefix is literal text, not a pattern.
  EXPECT_TRUE(targets("churn_", 1000).empty());
  EXPECT_TRUE(targets("churn%", 1000).empty());
  EXPECT_TRUE(targets("%", 1000).empty());
  EXPECT_TRUE(targets("CHURN", 1000).empty());

  // The limit keeps the newest.
  const auto all = store().audit_log("", 1000);
  const auto newest = store().audit_log("", 3);
  ASSERT_EQ(newest.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(newest[i].id, all[i].id);
  EXPECT_EQ(targets("churn:", 1), (std::vector<std::string>{"churn:2"}));
  EXPECT_EQ(store().audit_log("", 1).front().action, "alias.set");
  EXPECT_TRUE(store().audit_log("", 0).empty());
}

// --- referenced artifacts --------------------------------------------------------------------------

TEST_P(StoreTest, ApiKeysRoundTripRevokeOnceAndAreAudited) {
  ApiKeyRecord key;
  key.id = "0a1b2c3d";
  key.name = "shop";
  key.role = "predictor";
  key.endpoints = {"churn", "iris"};
  key.secret_sha256 = std::string(64, 'e');
  key.created_at = "2026-11-26T00:00:00.000Z";
  key.created_by = "test";
  key.expires_at = 1900000000;
  key.rate_limit = 12.5;
  store().create_key(key, "admin:me");
  EXPECT_THROW(store().create_key(key, "admin:me"), Error);
  auto keys = store().list_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].endpoints, key.endpoints);
  EXPECT_EQ(keys[0].secret_sha256, key.secret_sha256);
  EXPECT_EQ(keys[0].expires_at, key.expires_at);
  EXPECT_EQ(keys[0].rate_limit, 12.5);
  EXPECT_TRUE(keys[0].revoked_at.empty());
  const auto revoked = store().revoke_key("0a1b2c3d", "admin:me");
  EXPECT_FALSE(revoked.revoked_at.empty());
  EXPECT_EQ(store().revoke_key("0a1b2c3d", "admin:me").revoked_at, revoked.revoked_at);
  EXPECT_ERROR_KIND(store().revoke_key("ffffffff", "admin:me"), ErrorKind::kNotFound);
  const auto events = store().audit_log("key:0a1b2c3d", 10);
  ASSERT_EQ(events.size(), 2u) << "create and one revoke";
  EXPECT_EQ(events[0].actor, "admin:me");
}

TEST_P(StoreTest, ReferencedArtifactsAreEveryVersionsDigest) {
  EXPECT_TRUE(store().referenced_artifacts().empty());
  store().create_version(minimal_draft("churn", digest('a')), "alice");
  store().create_version(minimal_draft("churn", digest('b')), "alice");
  store().create_version(minimal_draft("churn", digest('a')), "alice");
  store().create_version(minimal_draft("iris", digest('c')), "alice");
  VersionUpdate archive;
  archive.archived = true;
  store().update_version("churn", 2, archive, "alice");  // archived versions keep their artifact
  EXPECT_EQ(store().referenced_artifacts(), (std::set<std::string>{digest('a'), digest('b'), digest('c')}));
}

// --- concurrency -----------------------------------------------------------------------------------

TEST_P(StoreTest, ConcurrentCreatesThroughSeparateHandlesGetDistinctNumbers) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<std::int64_t>> numbers(kThreads);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto handle = make_store();
        for (int i = 0; i < kEach; ++i) {
          numbers[t].push_back(handle->create_version(minimal_draft("shared"), "thread" + std::to_string(t)).number);
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  std::vector<std::int64_t> all;
  for (const auto& list : numbers) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(kThreads * kEach);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i + 1);
  EXPECT_EQ(all, expected);
  EXPECT_EQ(numbers_of(store().list_versions("shared")), expected);
  EXPECT_EQ(store().find_model("shared")->latest_version, kThreads * kEach);
  EXPECT_EQ(store().audit_log("shared", 1000).size(), static_cast<std::size_t>(kThreads * kEach + 1));  // + model.create
}

// One handle shared by several threads (as a server would hold it).
// BUG (reported, not fixed): SqliteStore is opened FULLMUTEX but its transactions are per connection,
// so a second thread fails with "cannot start a transaction within a transaction". Enable when fixed.
TEST_P(StoreTest, ConcurrentCreatesThroughOneSharedHandleGetDistinctNumbers) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::vector<std::int64_t>> numbers(kThreads);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kEach; ++i) numbers[t].push_back(store().create_version(minimal_draft("shared"), "t").number);
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  std::vector<std::int64_t> all;
  for (const auto& list : numbers) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a number was given twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(store().list_versions("shared").size(), static_cast<std::size_t>(kThreads * kEach));
}

std::vector<Backend> backends() {
  // Always listed (ctest discovers tests at build time); skipped at run time without a server.
  return {{"Sqlite", make_sqlite_store}, {"Postgres", make_postgres_store}};
}

TEST(PostgresBackend, Configured) {
  if (postgres_url().empty()) {
    GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set: the store suite ran on SQLite only (scripts/test.sh starts a PostgreSQL cluster)";
  }
  EXPECT_NO_THROW({ PostgresDatabase probe(postgres_url()); });
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) { return std::string(param_info.param.name); });

// --- SQLite specifics --------------------------------------------------------------------------

TEST(SqliteStore, FreshDatabasePassesIntegrityCheck) {
  const std::string dir = fresh_dir("sqlite-integrity");
  SqliteStore store(dir + "/registry.db");
  store.create_version(minimal_draft("churn"), "alice");
  EXPECT_EQ(store.integrity_check(), "ok");
  fs::remove_all(dir);
}

TEST(SqliteStore, AFileThatIsNotADatabaseIsAnIoError) {
  const std::string dir = fresh_dir("sqlite-garbage");
  {
    std::ofstream out(dir + "/registry.db", std::ios::binary);
    out << std::string(8192, 'x');
  }
  try {
    SqliteStore store(dir + "/registry.db");
    ADD_FAILURE() << "opened a file of x's as a registry";
  } catch (const Error& e) {
    EXPECT_STREQ(kind_name(e.kind()), "kIo") << e.what();
    EXPECT_NE(std::string(e.what()).find(dir + "/registry.db"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SqliteStore, AnUnwritableLocationIsAnIoError) {
  EXPECT_ERROR_KIND(SqliteStore("/nonexistent-orchard-dir/sub/registry.db"), ErrorKind::kIo);
}

// Starts the sqlite3 shell holding the write lock on `path` for `seconds`; returns once it holds it.
// False if the shell is not installed or did not take the lock.
bool hold_write_lock(const std::string& path, const std::string& marker, int seconds) {
  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) return false;
  const std::string holder = "sqlite3 '" + path + "' 'BEGIN IMMEDIATE;' '.shell touch \"" + marker + "\"; sleep " +
                             std::to_string(seconds) + "' 'COMMIT;' >/dev/null 2>&1 &";
  if (std::system(holder.c_str()) != 0) return false;
  for (int i = 0; i < 1000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return fs::exists(marker);
}

// A writer that holds the lock beyond the busy timeout makes a change fail with kIo (not hang,
// not a wrong number); once the lock is released the change succeeds.
TEST(SqliteStore, LockHeldBeyondTheTimeoutIsAnIoError) {
  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "the sqlite3 shell is not installed";
  const std::string dir = fresh_dir("sqlite-busy");
  const std::string path = dir + "/registry.db";
  SqliteStore(path).create_version(minimal_draft("churn"), "alice");
  {
    SqliteStore impatient(path, 50);
    ASSERT_TRUE(hold_write_lock(path, dir + "/locked", 1)) << "the sqlite3 shell did not take the lock";
    try {
      impatient.create_version(minimal_draft("churn"), "bob");
      ADD_FAILURE() << "wrote while another process held the lock";
    } catch (const Error& e) {
      EXPECT_STREQ(kind_name(e.kind()), "kIo") << e.what();
      EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
    }
    // Reads are not blocked by a writer (WAL).
    EXPECT_EQ(impatient.find_model("churn")->latest_version, 1);
    EXPECT_EQ(impatient.list_versions("churn").size(), 1u);
  }
  // Waiting longer than the holder succeeds, with the next number.
  SqliteStore patient(path, 10000);
  EXPECT_EQ(patient.create_version(minimal_draft("churn"), "carol").number, 2);
  EXPECT_EQ(numbers_of(patient.list_versions("churn")), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(patient.integrity_check(), "ok");
  fs::remove_all(dir);
}

// DESIGN ISSUE (reported, not fixed). Opening an existing, up-to-date registry only to read it (orchard models / versions / show) should
// not need the write lock; today the constructor's migrate() takes it (BEGIN IMMEDIATE) on every open.
TEST(SqliteStore, OpeningToReadIsNotBlockedByAWriter) {
  const std::string dir = fresh_dir("sqlite-open-busy");
  const std::string path = dir + "/registry.db";
  SqliteStore(path).create_version(minimal_draft("churn"), "alice");
  if (!hold_write_lock(path, dir + "/locked", 1)) GTEST_SKIP() << "the sqlite3 shell is not installed";
  try {
    SqliteStore reader(path, 50);
    EXPECT_EQ(reader.find_model("churn")->latest_version, 1);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  SqliteStore(path, 10000).find_model("churn");  // waits for the holder to finish
  fs::remove_all(dir);
}

}  // namespace
}  // namespace orchard
