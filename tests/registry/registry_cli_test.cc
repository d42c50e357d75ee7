// End-to-end tests of the registry verbs of the real `orchard` binary: push, models, versions, show,
// tag, archive, rollback, gc, sync, audit; exit codes; concurrent pushes from several processes; and
// pushes killed at random moments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/file_bytes.h"
#include "common/sha256.h"
#include "registry/artifact_store.h"
#include "registry/postgres_database.h"
#include "registry/sqlite_store.h"
#include "support/test_support.h"

namespace orchard {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using testing::CommandResult;
using testing::run_orchard;

std::string q(const std::string& text) { return testing::shell_quote(text); }

std::string example(const std::string& relative) { return testing::source_dir() + "/examples/" + relative; }
const std::string kChurnXgb = example("churn/churn_xgboost.ubj");
const std::string kChurnLgb = example("churn/churn_lightgbm.txt");
const std::string kChurnCsv = example("churn/customers.csv");
const std::string kIrisXgb = example("iris/iris_xgboost.json");
const std::string kIrisCsv = example("iris/flowers.csv");

// Splits an aligned table row on runs of two or more spaces.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = line.find("  ", i);
    if (end == std::string::npos) end = line.size();
    cells.push_back(line.substr(i, end - i));
    i = end;
    while (i < line.size() && line[i] == ' ') ++i;
  }
  return cells;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ = testing::temp_dir() + "/cli-" + std::to_string(counter++);
    fs::remove_all(root_);
    fs::create_directories(root_);
    data_ = root_ + "/data";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Runs `orchard VERB ARGS --data DATA`.
  CommandResult orchard(const std::string& verb, const std::string& args = "") {
    return run_orchard(verb + " " + args + " --data " + q(data_));
  }
  CommandResult ok(const std::string& verb, const std::string& args = "") {
    CommandResult r = orchard(verb, args);
    EXPECT_EQ(r.exit_code, 0) << verb << " " << args << "\n" << describe(r);
    return r;
  }
  json ok_json(const std::string& verb, const std::string& args = "") {
    const CommandResult r = ok(verb, args + " --json");
    try {
      return json::parse(r.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << verb << " " << args << " --json printed no JSON: " << e.what() << "\n" << r.out;
      return json();
    }
  }

  std::string root_, data_;
};

// --- push and the listings -----------------------------------------------------------------------

TEST_F(RegistryCliTest, PushPrintsNameColonVersion) {
  CommandResult r = ok("push", "churn " + q(kChurnXgb));
  EXPECT_EQ(r.out, "churn:1\n");
  EXPECT_TRUE(contains(r.err, "registered churn version 1")) << r.err;
  EXPECT_TRUE(contains(r.err, sha256_hex(read_file_bytes(kChurnXgb)).substr(0, 12))) << r.err;
  EXPECT_EQ(ok("push", "churn " + q(kChurnLgb)).out, "churn:2\n");
  EXPECT_EQ(ok("push", "iris " + q(kIrisXgb)).out, "iris:1\n");

  const json v = ok_json("push", "churn " + q(kChurnXgb));
  EXPECT_EQ(v["model"], "churn");
  EXPECT_EQ(v["version"], 3);
  EXPECT_EQ(v["artifact"]["sha256"], sha256_hex(read_file_bytes(kChurnXgb)));
  EXPECT_EQ(v["artifact"]["format"], "xgboost-ubjson");
  EXPECT_EQ(v["artifact"]["size"], fs::file_size(kChurnXgb));
  EXPECT_EQ(v["archived"], false);
  EXPECT_TRUE(v["dataset"].is_null());
}

TEST_F(RegistryCliTest, PushRecordsLineageAndOptions) {
  const CommandResult r = ok("push", "churn " + q(kChurnXgb) + " --dataset " + q(kChurnCsv) +
                                         " --label target --metric auc=0.93 --metric logloss=0.25 --param eta=0.1"
                                         " --tag team=risk --tag stage=dev --alias staging --git-commit abc123"
                                         " --description " + q("first model"));
  EXPECT_EQ(r.out, "churn:1\n");
  EXPECT_TRUE(contains(r.err, "as @staging")) << r.err;

  const json v = ok_json("show", "churn:1");
  EXPECT_EQ(v["metrics"], json({{"auc", 0.93}, {"logloss", 0.25}}));
  EXPECT_EQ(v["params"], json({{"eta", "0.1"}}));
  EXPECT_EQ(v["tags"], json({{"team", "risk"}, {"stage", "dev"}}));
  EXPECT_EQ(v["source"]["git_commit"], "abc123");
  EXPECT_EQ(v["source"]["path"], kChurnXgb);
  EXPECT_EQ(v["description"], "first model");
  EXPECT_EQ(v["dataset"]["rows"], 100);
  EXPECT_EQ(v["dataset"]["columns"], 7);
  EXPECT_EQ(v["dataset"]["sha256"], sha256_hex(read_file_bytes(kChurnCsv)));
  EXPECT_EQ(v["has_reference_profile"], true);
  ASSERT_EQ(v["aliases"].size(), 1u);
  EXPECT_EQ(v["aliases"][0]["alias"], "staging");
  EXPECT_EQ(v["aliases"][0]["version"], 1);

  // Bad option values are exit 3 and register nothing.
  EXPECT_EQ(orchard("push", "churn " + q(kChurnXgb) + " --metric auc=high").exit_code, 3);
  EXPECT_EQ(orchard("push", "churn " + q(kChurnXgb) + " --metric auc").exit_code, 3);
  EXPECT_EQ(orchard("push", "churn " + q(kChurnXgb) + " --tag noequals").exit_code, 3);
  EXPECT_EQ(orchard("push", "churn " + q(kChurnXgb) + " --label target").exit_code, 3);  // --label needs --dataset
  EXPECT_EQ(orchard("push", "churn " + q(kChurnXgb) + " --dataset " + q(kChurnCsv) + " --label nope").exit_code, 3);
  EXPECT_EQ(ok_json("versions", "churn").size(), 1u);
}

TEST_F(RegistryCliTest, ModelsTextAndJson) {
  CommandResult empty = ok("models");
  EXPECT_EQ(empty.out, "");
  EXPECT_TRUE(contains(empty.err, "no models yet")) << empty.err;
  EXPECT_EQ(ok_json("models"), json::array());

  ok("push", "churn " + q(kChurnXgb));
  ok("push", "churn " + q(kChurnLgb) + " --alias production");
  ok("push", "iris " + q(kIrisXgb));
  ok("tag", "churn --description " + q("Predicts churn"));

  const auto lines = testing::lines_of(ok("models").out);
  ASSERT_EQ(lines.size(), 3u) << ok("models").out;
  EXPECT_EQ(cells_of(lines[0]), (std::vector<std::string>{"NAME", "VERSIONS", "ALIASES", "DESCRIPTION"}));
  EXPECT_EQ(cells_of(lines[1]), (std::vector<std::string>{"churn", "2", "production=2", "Predicts churn"}));
  EXPECT_EQ(cells_of(lines[2]), (std::vector<std::string>{"iris", "1"}));

  const json models = ok_json("models");
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0]["name"], "churn");
  EXPECT_EQ(models[0]["latest_version"], 2);
  EXPECT_EQ(models[0]["description"], "Predicts churn");
  EXPECT_EQ(models[0]["aliases"], json({{"production", 2}}));
  EXPECT_EQ(models[1]["name"], "iris");
  EXPECT_EQ(models[1]["aliases"], json::object());
}

TEST_F(RegistryCliTest, VersionsTextAndJson) {
  ok("push", "churn " + q(kChurnXgb) + " --metric auc=0.93 --tag team=risk");
  ok("push", "churn " + q(kChurnLgb) + " --alias production");
  ok("archive", "churn:1");

  const std::string text = ok("versions", "churn").out;
  const auto lines = testing::lines_of(text);
  ASSERT_EQ(lines.size(), 3u) << text;
  EXPECT_EQ(cells_of(lines[0]), (std::vector<std::string>{"VERSION", "CREATED", "BY", "FORMAT", "SIZE", "ALIASES", "METRICS", "TAGS"}));
  const auto first = cells_of(lines[1]);
  ASSERT_GE(first.size(), 7u) << lines[1];
  EXPECT_EQ(first[0], "1 (archived)");
  EXPECT_EQ(first[3], "xgboost-ubjson");
  EXPECT_TRUE(contains(lines[1], "auc=0.93")) << lines[1];
  EXPECT_TRUE(contains(lines[1], "team=risk")) << lines[1];
  const auto second = cells_of(lines[2]);
  ASSERT_GE(second.size(), 6u) << lines[2];
  EXPECT_EQ(second[0], "2");
  EXPECT_EQ(second[3], "lightgbm-text");
  EXPECT_EQ(second[5], "production");

  const json versions = ok_json("versions", "churn");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["version"], 1);
  EXPECT_EQ(versions[0]["archived"], true);
  EXPECT_EQ(versions[0]["metrics"]["auc"], 0.93);
  EXPECT_EQ(versions[1]["version"], 2);
  EXPECT_EQ(versions[1]["artifact"]["format"], "lightgbm-text");
  EXPECT_EQ(versions[1]["schema"]["features"].size(), 6u);
}

TEST_F(RegistryCliTest, ShowTextAndJson) {
  ok("push", "churn " + q(kChurnXgb) + " --dataset " + q(kChurnCsv) + " --label target --metric auc=0.9 --alias production");
  ok("push", "churn " + q(kChurnLgb) + " --alias production");
  const std::string digest = sha256_hex(read_file_bytes(kChurnXgb));

  const std::string text = ok("show", "churn:1").out;
  const auto lines = testing::lines_of(text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "churn:1");
  EXPECT_TRUE(contains(text, "artifact     sha256 " + digest + ", xgboost-ubjson")) << text;
  EXPECT_TRUE(contains(text, "training     " + kChurnCsv + ": 100 rows, 7 columns")) << text;
  EXPECT_TRUE(contains(text, "reference profile stored")) << text;
  EXPECT_TRUE(contains(text, "metrics      auc=0.9")) << text;
  EXPECT_TRUE(contains(text, "@production -> 2  (history: -->1 1->2)")) << text;
  EXPECT_TRUE(contains(text, "features     age, tenure, monthly_charges, plan, region, support_calls")) << text;
  EXPECT_TRUE(contains(text, "outputs      prediction")) << text;
  EXPECT_TRUE(contains(text, "engine       ok: ")) << text;

  // NAME is the production version; NAME@ALIAS the alias's.
  EXPECT_EQ(testing::lines_of(ok("show", "churn").out)[0], "churn:2");
  EXPECT_EQ(testing::lines_of(ok("show", "churn@production").out)[0], "churn:2");
  EXPECT_TRUE(contains(ok("show", "churn:2").out, "no dataset recorded")) << ok("show", "churn:2").out;

  const json v = ok_json("show", "churn:1");
  EXPECT_EQ(v["model"], "churn");
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["artifact"]["sha256"], digest);
  EXPECT_EQ(v["dataset"]["rows"], 100);
  EXPECT_EQ(v["has_reference_profile"], true);
  EXPECT_EQ(v["schema"]["outputs"], json({"prediction"}));
  ASSERT_EQ(v["aliases"].size(), 1u);
  const json& history = v["aliases"][0]["history"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["from_version"], 0);
  EXPECT_EQ(history[0]["to_version"], 1);
  EXPECT_EQ(history[1]["from_version"], 1);
  EXPECT_EQ(history[1]["to_version"], 2);
  EXPECT_EQ(history[1]["kind"], "set");
}

TEST_F(RegistryCliTest, AuditTextAndJson) {
  ::setenv("ORCHARD_ACTOR", "alice@example", 1);
  ok("push", "churn " + q(kChurnXgb));
  ::setenv("ORCHARD_ACTOR", "bob", 1);
  ok("push", "churn " + q(kChurnXgb) + " --alias production");
  ok("tag", "churn:1 team=risk");
  ok("push", "iris " + q(kIrisXgb));
  ::unsetenv("ORCHARD_ACTOR");

  const std::string text = ok("audit").out;
  const auto lines = testing::lines_of(text);
  ASSERT_EQ(lines.size(), 8u) << text;  // header + 7 events
  EXPECT_EQ(cells_of(lines[0]), (std::vector<std::string>{"ID", "AT", "ACTOR", "ACTION", "TARGET"}));
  EXPECT_EQ(cells_of(lines[1])[3], "version.create");
  EXPECT_EQ(cells_of(lines[1])[4], "iris:1");
  EXPECT_EQ(cells_of(lines[7])[2], "alice@example");
  EXPECT_EQ(cells_of(lines[7])[3], "model.create");

  const json events = ok_json("audit");
  ASSERT_EQ(events.size(), 7u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"version.create", "iris:1"},     {"model.create", "iris"},         {"version.update", "churn:1"},
      {"alias.set", "churn@production"}, {"version.create", "churn:2"}, {"version.create", "churn:1"},
      {"model.create", "churn"}};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["action"], expected[i].first) << i;
    EXPECT_EQ(events[i]["target"], expected[i].second) << i;
    if (i > 0) {
      EXPECT_LT(events[i]["id"].get<std::int64_t>(), events[i - 1]["id"].get<std::int64_t>());
    }
  }
  EXPECT_EQ(events[6]["actor"], "alice@example");
  EXPECT_EQ(events[2]["actor"], "bob");
  EXPECT_EQ(events[2]["before"]["tags"], json::object());
  EXPECT_EQ(events[2]["after"]["tags"], json({{"team", "risk"}}));
  EXPECT_TRUE(events[3]["before"].is_null());
  EXPECT_EQ(events[3]["after"]["version"], 2);

  // Filter and limit.
  const json churn_versions = ok_json("audit", "churn:");
  ASSERT_EQ(churn_versions.size(), 3u);
  for (const auto& e : churn_versions) EXPECT_EQ(e["target"].get<std::string>().rfind("churn:", 0), 0u);
  const json limited = ok_json("audit", "--limit 2");
  ASSERT_EQ(limited.size(), 2u);
  EXPECT_EQ(limited[0]["id"], events[0]["id"]);
  EXPECT_EQ(limited[1]["id"], events[1]["id"]);
  EXPECT_EQ(ok_json("audit", "churn@production")[0]["action"], "alias.set");
  EXPECT_EQ(ok_json("audit", "nothing-here"), json::array());
}

// --- tag, archive, rollback ------------------------------------------------------------------------

TEST_F(RegistryCliTest, TagSetsAndRemovesTagsAndDescriptions) {
  ok("push", "churn " + q(kChurnXgb));
  ok("push", "churn " + q(kChurnXgb));
  ok("tag", "churn:1 team=risk stage=dev");
  EXPECT_EQ(ok_json("show", "churn:1")["tags"], json({{"team", "risk"}, {"stage", "dev"}}));
  ok("tag", "churn:1 stage=prod --remove team");
  EXPECT_EQ(ok_json("show", "churn:1")["tags"], json({{"stage", "prod"}}));
  ok("tag", "churn:1 --description " + q("the first one"));
  EXPECT_EQ(ok_json("show", "churn:1")["description"], "the first one");
  EXPECT_EQ(ok_json("show", "churn:2")["tags"], json::object());

  ok("tag", "churn owner=ml --description " + q("Churn model"));
  const json models = ok_json("models");
  EXPECT_EQ(models[0]["tags"], json({{"owner", "ml"}}));
  EXPECT_EQ(models[0]["description"], "Churn model");

  EXPECT_EQ(orchard("tag", "churn@production x=1").exit_code, 3);
  EXPECT_EQ(orchard("tag", "churn:1 " + q("bad key=1")).exit_code, 3);
  EXPECT_EQ(orchard("tag", "churn:1 novalue").exit_code, 3);
}

TEST_F(RegistryCliTest, ArchiveHidesAVersionFromTheDefault) {
  ok("push", "churn " + q(kChurnXgb));
  ok("push", "churn " + q(kChurnLgb));
  EXPECT_EQ(testing::lines_of(ok("show", "churn").out)[0], "churn:2");
  ok("archive", "churn:2");
  EXPECT_EQ(ok_json("show", "churn:2")["archived"], true);
  EXPECT_EQ(testing::lines_of(ok("show", "churn").out)[0], "churn:1");
  EXPECT_EQ(testing::lines_of(ok("show", "churn:2").out)[0], "churn:2  (archived)");
  ok("archive", "churn:2 --undo");
  EXPECT_EQ(ok_json("show", "churn:2")["archived"], false);
  EXPECT_EQ(testing::lines_of(ok("show", "churn").out)[0], "churn:2");
  EXPECT_EQ(orchard("archive", "churn").exit_code, 3);  // needs a version
  EXPECT_EQ(orchard("archive", "churn:3").exit_code, 5);
  const json events = ok_json("audit", "churn:2");
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0]["action"], "version.unarchive");
  EXPECT_EQ(events[1]["action"], "version.archive");
}

TEST_F(RegistryCliTest, RollbackMovesTheAliasBack) {
  for (int i = 0; i < 3; ++i) ok("push", "churn " + q(kChurnXgb) + " --alias production");
  EXPECT_EQ(ok("rollback", "churn --alias production").out, "churn@production: 3 -> 2\n");
  EXPECT_EQ(testing::lines_of(ok("show", "churn").out)[0], "churn:2");
  EXPECT_EQ(ok("rollback", "churn --alias production").out, "churn@production: 2 -> 1\n");
  const CommandResult again = orchard("rollback", "churn --alias production");
  EXPECT_EQ(again.exit_code, 3) << describe(again);
  EXPECT_TRUE(contains(again.err, "no earlier version")) << again.err;
  EXPECT_EQ(ok_json("models")[0]["aliases"]["production"], 1);
  EXPECT_EQ(ok_json("audit", "churn@production")[0]["action"], "alias.rollback");
  EXPECT_EQ(orchard("rollback", "churn").exit_code, 2);  // --alias is required
}

// --- exit codes ------------------------------------------------------------------------------------

TEST_F(RegistryCliTest, UnknownModelOrVersionExits5) {
  ok("push", "churn " + q(kChurnXgb));
  for (const std::string& command : {std::string("versions nope"), std::string("show nope"), std::string("show nope:1"),
                                     std::string("show nope@production"), std::string("show churn:2"),
                                     std::string("show churn@canary"), std::string("tag nope x=1"),
                                     std::string("tag churn:2 x=1"), std::string("archive nope:1"),
                                     std::string("archive churn:9")}) {
    const CommandResult r = run_orchard(command + " --data " + q(data_));
    EXPECT_EQ(r.exit_code, 5) << command << "\n" << describe(r);
    EXPECT_TRUE(contains(r.err, "orchard: error: ")) << command << ": " << r.err;
  }
}

// BUG (reported, not fixed): exits 3 ("has no earlier version to roll back to"). Enable when fixed.
TEST_F(RegistryCliTest, RollbackOfAnUnknownModelExits5) {
  ok("push", "churn " + q(kChurnXgb));
  const CommandResult r = orchard("rollback", "nope --alias production");
  EXPECT_EQ(r.exit_code, 5) << describe(r);
}

TEST_F(RegistryCliTest, BadNameExits3) {
  for (const std::string& command : {"push a/b " + q(kChurnXgb), "push .. " + q(kChurnXgb), "push " + q("a b") + " " + q(kChurnXgb),
                                     "push " + q("caf\xc3\xa9") + " " + q(kChurnXgb), "push churn " + q(kChurnXgb) + " --alias a/b",
                                     std::string("versions a/b"), std::string("show a/b"), std::string("show churn:0"),
                                     std::string("show churn:x"), std::string("show churn:1@prod"), std::string("tag a/b x=1")}) {
    const CommandResult r = run_orchard(command + " --data " + q(data_));
    EXPECT_EQ(r.exit_code, 3) << command << "\n" << describe(r);
  }
  EXPECT_EQ(ok_json("models"), json::array());
}

TEST_F(RegistryCliTest, NonModelFileExits4AndRegistersNothing) {
  const CommandResult r = orchard("push", "churn " + q(kChurnCsv));
  EXPECT_EQ(r.exit_code, 4) << describe(r);
  EXPECT_TRUE(contains(r.err, "unrecognized model format")) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ok_json("models"), json::array());
  EXPECT_EQ(ok_json("audit"), json::array());
  EXPECT_TRUE(ArtifactStore(data_ + "/artifacts").list().empty());

  const CommandResult missing = orchard("push", "churn " + q(root_ + "/no-such-model.json"));
  EXPECT_EQ(missing.exit_code, 5) << describe(missing);
}

// --- sync ------------------------------------------------------------------------------------------

TEST_F(RegistryCliTest, SyncRegistersEachVersionFolderOnce) {
  const std::string dir = root_ + "/models";
  fs::create_directories(dir + "/churn/1");
  fs::create_directories(dir + "/churn/2");
  fs::create_directories(dir + "/iris/1");
  fs::copy_file(kChurnXgb, dir + "/churn/1/model.ubj");
  std::ofstream(dir + "/churn/1/orchard.json")
      << R"({"metrics": {"auc": 0.91}, "tags": {"team": "risk"}, "alias": "production", "description": "from sync"})";
  fs::copy_file(kChurnLgb, dir + "/churn/2/model.txt");
  fs::copy_file(kIrisXgb, dir + "/iris/1/iris.json");

  const CommandResult dry = ok("sync", q(dir) + " --dry-run");
  EXPECT_EQ(testing::lines_of(dry.out).size(), 3u) << dry.out;
  EXPECT_EQ(ok_json("models"), json::array());

  const CommandResult first = ok("sync", q(dir));
  const auto registered = testing::lines_of(first.out);
  ASSERT_EQ(registered.size(), 3u) << first.out;
  EXPECT_TRUE(contains(registered[0], "as churn:1")) << registered[0];
  EXPECT_TRUE(contains(registered[1], "as churn:2")) << registered[1];
  EXPECT_TRUE(contains(registered[2], "as iris:1")) << registered[2];
  EXPECT_TRUE(contains(first.err, "3 registered, 0 already present")) << first.err;

  const json churn1 = ok_json("show", "churn:1");
  EXPECT_EQ(churn1["metrics"], json({{"auc", 0.91}}));
  EXPECT_EQ(churn1["tags"], json({{"team", "risk"}}));
  EXPECT_EQ(churn1["description"], "from sync");
  EXPECT_EQ(churn1["artifact"]["sha256"], sha256_hex(read_file_bytes(kChurnXgb)));
  EXPECT_EQ(ok_json("show", "churn:2")["artifact"]["format"], "lightgbm-text");
  EXPECT_EQ(ok_json("models")[0]["aliases"], json({{"production", 1}}));
  const std::size_t events = ok_json("audit", "--limit 1000").size();

  const CommandResult second = ok("sync", q(dir));
  EXPECT_EQ(second.out, "");
  EXPECT_TRUE(contains(second.err, "0 registered, 3 already present")) << second.err;
  EXPECT_EQ(ok_json("versions", "churn").size(), 2u);
  EXPECT_EQ(ok_json("versions", "iris").size(), 1u);
  EXPECT_EQ(ok_json("audit", "--limit 1000").size(), events);

  // A new folder: only it is registered.
  fs::create_directories(dir + "/iris/2");
  fs::copy_file(kChurnXgb, dir + "/iris/2/other.ubj");
  const CommandResult third = ok("sync", q(dir));
  ASSERT_EQ(testing::lines_of(third.out).size(), 1u) << third.out;
  EXPECT_TRUE(contains(third.out, "as iris:2")) << third.out;
}

// The layout `sync --help` shows: the training data beside the model, named by orchard.yaml.
TEST_F(RegistryCliTest, SyncTakesTheDatasetBesideTheModel) {
  const std::string dir = root_ + "/models";
  fs::create_directories(dir + "/churn/1");
  fs::copy_file(kChurnXgb, dir + "/churn/1/model.ubj");
  fs::copy_file(example("churn/customers.csv"), dir + "/churn/1/train.csv");
  std::ofstream(dir + "/churn/1/orchard.yaml") << "dataset: train.csv\nlabel: target\n";
  const CommandResult synced = ok("sync", q(dir));
  EXPECT_TRUE(contains(synced.out, "as churn:1")) << synced.out << synced.err;
  const json version = ok_json("show", "churn:1");
  EXPECT_EQ(version["artifact"]["sha256"], sha256_hex(read_file_bytes(kChurnXgb))) << "the model, not the CSV";
  EXPECT_EQ(version["dataset"]["sha256"], sha256_hex(read_file_bytes(dir + "/churn/1/train.csv"))) << version.dump(1);
  // Two files that are neither: which one is the model is not guessed.
  fs::create_directories(dir + "/churn/2");
  fs::copy_file(kChurnXgb, dir + "/churn/2/model.ubj");
  fs::copy_file(kChurnLgb, dir + "/churn/2/model.txt");
  const CommandResult two = orchard("sync", q(dir));
  EXPECT_EQ(two.exit_code, 3);
  EXPECT_TRUE(contains(two.err, "model.txt and model.ubj")) << two.err;
}

TEST_F(RegistryCliTest, SyncRefusesMalformedFolders) {
  const std::string dir = root_ + "/models";
  fs::create_directories(dir + "/churn/one");
  fs::copy_file(kChurnXgb, dir + "/churn/one/model.ubj");
  EXPECT_EQ(orchard("sync", q(dir)).exit_code, 3);
  fs::remove_all(dir);
  fs::create_directories(dir + "/churn/1");
  fs::copy_file(kChurnXgb, dir + "/churn/1/model.ubj");
  std::ofstream(dir + "/churn/1/orchard.json") << "{not json";
  EXPECT_EQ(orchard("sync", q(dir)).exit_code, 3);
  std::ofstream(dir + "/churn/1/orchard.json", std::ios::trunc) << R"({"metrics": {"auc": "high"}})";
  EXPECT_EQ(orchard("sync", q(dir)).exit_code, 3);
  EXPECT_EQ(orchard("sync", q(root_ + "/no-such-dir")).exit_code, 5);
  EXPECT_EQ(ok_json("models"), json::array());
}

// --- gc ------------------------------------------------------------------------------------------

TEST_F(RegistryCliTest, GcRemovesOnlyUnreferencedArtifacts) {
  ok("push", "churn " + q(kChurnXgb));
  ok("push", "iris " + q(kIrisXgb));
  ok("archive", "iris:1");
  const std::string orphan = ArtifactStore(data_ + "/artifacts").put("an artifact no version refers to");
  std::ofstream(data_ + "/artifacts/tmp/" + orphan + ".9.partial") << "half";

  EXPECT_EQ(ok("gc").out, "removed 0 unreferenced artifact(s)\n");
  EXPECT_TRUE(ArtifactStore(data_ + "/artifacts").contains(orphan));
  EXPECT_EQ(ok("gc", "--min-age 0").out, "removed 1 unreferenced artifact(s)\n");
  ArtifactStore artifacts(data_ + "/artifacts");
  EXPECT_FALSE(artifacts.contains(orphan));
  EXPECT_TRUE(fs::is_empty(data_ + "/artifacts/tmp"));
  EXPECT_EQ(artifacts.list().size(), 2u);
  EXPECT_NO_THROW(artifacts.read(sha256_hex(read_file_bytes(kChurnXgb))));
  EXPECT_NO_THROW(artifacts.read(sha256_hex(read_file_bytes(kIrisXgb))));
  EXPECT_EQ(ok("gc", "--min-age 0").out, "removed 0 unreferenced artifact(s)\n");
  EXPECT_EQ(orchard("gc", "--min-age -5").exit_code, 2);
}

// `gc --min-age N` with a very large N must remove nothing young.
// BUG (reported, not fixed): the age overflows and gc removes every unreferenced artifact. Enable when fixed.
TEST_F(RegistryCliTest, GcWithAHugeMinimumAgeRemovesNothing) {
  ok("push", "churn " + q(kChurnXgb));
  const std::string orphan = ArtifactStore(data_ + "/artifacts").put("orphan");
  EXPECT_EQ(ok("gc", "--min-age 10000000000").out, "removed 0 unreferenced artifact(s)\n");
  EXPECT_TRUE(ArtifactStore(data_ + "/artifacts").contains(orphan));
}

// A metric value that parses as a number but that JSON cannot hold must not break the model.
// BUG (reported, not fixed): push accepts auc=nan, and versions/show then exit 70 (JSON type_error).
// Enable when fixed.
TEST_F(RegistryCliTest, NonFiniteMetricDoesNotBreakTheModel) {
  const CommandResult push = orchard("push", "churn " + q(kChurnXgb) + " --metric auc=nan --metric loss=inf");
  EXPECT_TRUE(push.exit_code == 0 || push.exit_code == 3) << describe(push);
  const CommandResult versions = orchard("versions", "churn");
  EXPECT_TRUE(versions.exit_code == 0 || (push.exit_code == 3 && versions.exit_code == 5)) << describe(versions);
  const CommandResult show = orchard("show", "churn --json");
  EXPECT_NE(show.exit_code, 70) << describe(show);
}

// --- several processes at once -----------------------------------------------------------------------

// Runs `count` pushes of `file` to `name` at the same time; returns their results.
std::vector<CommandResult> push_concurrently(const std::string& data, const std::string& dir, const std::string& name,
                                             const std::string& file, int count) {
  std::string script;
  for (int i = 0; i < count; ++i) {
    const std::string base = dir + "/concurrent" + std::to_string(i);
    script += "( " + q(testing::orchard_binary()) + " push " + q(name) + " " + q(file) + " --data " + q(data) + " >" + q(base + ".out") +
              " 2>" + q(base + ".err") + "; echo $? >" + q(base + ".rc") + " ) & ";
  }
  script += "wait";
  EXPECT_EQ(std::system(script.c_str()), 0);
  std::vector<CommandResult> results;
  for (int i = 0; i < count; ++i) {
    const std::string base = dir + "/concurrent" + std::to_string(i);
    CommandResult r;
    std::ifstream(base + ".rc") >> r.exit_code;
    std::ifstream out(base + ".out"), err(base + ".err");
    std::stringstream o, e;
    o << out.rdbuf();
    e << err.rdbuf();
    r.out = o.str();
    r.err = e.str();
    results.push_back(r);
  }
  return results;
}

TEST_F(RegistryCliTest, EightConcurrentPushesGetDistinctVersions) {
  // Into a data folder that does not exist yet: the database is created by whichever comes first.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto results = push_concurrently(data_, root_, "same-name", kChurnXgb, 8);
    std::set<std::string> printed;
    for (const auto& r : results) {
      EXPECT_EQ(r.exit_code, 0) << describe(r);
      printed.insert(r.out);
    }
    std::set<std::string> expected;
    for (int v = round * 8 + 1; v <= round * 8 + 8; ++v) expected.insert("same-name:" + std::to_string(v) + "\n");
    EXPECT_EQ(printed, expected);

    SqliteStore store(data_ + "/registry.db");
    const auto versions = store.list_versions("same-name");
    ASSERT_EQ(versions.size(), static_cast<std::size_t>(8 * (round + 1)));
    for (std::size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i].number, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(store.find_model("same-name")->latest_version, 8 * (round + 1));
    EXPECT_EQ(store.audit_log("same-name", 1000).size(), static_cast<std::size_t>(8 * (round + 1) + 1));
    EXPECT_EQ(store.integrity_check(), "ok");
  }
  EXPECT_EQ(ArtifactStore(data_ + "/artifacts").list().size(), 1u);
  EXPECT_TRUE(fs::is_empty(data_ + "/artifacts/tmp"));
}

// --- pushes killed at any moment ---------------------------------------------------------------------

pid_t spawn(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  for (const std::string& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

TEST_F(RegistryCliTest, PushKilledAtAnyMomentLeavesAConsistentRegistry) {
  const std::string model_bytes = read_file_bytes(kChurnXgb);
  const std::string model_digest = sha256_hex(model_bytes);
  const std::vector<std::string> arguments = {testing::orchard_binary(), "push", "killed", kChurnXgb, "--dataset", kChurnCsv,
                                              "--label", "target", "--data", data_};
  constexpr int kIterations = 30;
  int killed = 0, completed = 0;
  std::int64_t versions_seen = 0;
  for (int i = 0; i < kIterations; ++i) {
    // Delays from 0 to a few ms (before and during start-up), up to ~25 ms (during the push), and
    // every fifth long enough for the push to finish.
    long delay_us = 0;
    switch (i % 5) {
      case 0: case 1: delay_us = (i * 397L) % 3000; break;
      case 2: case 3: delay_us = 3000 + (i * 1777L) % 25000; break;
      default: delay_us = -1; break;  // not killed: runs to the end, however slow the build (sanitizers)
    }
    SCOPED_TRACE("iteration " + std::to_string(i) + ", kill after " + std::to_string(delay_us) + " us");
    const pid_t pid = spawn(arguments);
    ASSERT_GT(pid, 0);
    if (delay_us >= 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      ::kill(pid, SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
      ++killed;
    } else {
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 0) << "a push that was not killed failed";
      ++completed;
    }

    if (!fs::exists(data_ + "/registry.db")) continue;  // killed before it created anything
    SqliteStore store(data_ + "/registry.db");
    ASSERT_EQ(store.integrity_check(), "ok");
    const auto versions = store.list_versions("killed");
    const std::int64_t n = static_cast<std::int64_t>(versions.size());
    for (std::int64_t v = 0; v < n; ++v) ASSERT_EQ(versions[static_cast<std::size_t>(v)].number, v + 1) << "numbers not contiguous";
    EXPECT_GE(n, versions_seen);
    EXPECT_LE(n, versions_seen + 1);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      EXPECT_EQ(n, versions_seen + 1) << "a completed push left no version";
    }
    versions_seen = n;
    if (n > 0) {
      EXPECT_EQ(store.find_model("killed")->latest_version, n);
    }
    ArtifactStore artifacts(data_ + "/artifacts");
    for (const VersionRecord& v : versions) {
      EXPECT_EQ(v.artifact_sha256, model_digest);
      std::string bytes;
      EXPECT_NO_THROW(bytes = artifacts.read(v.artifact_sha256)) << "version " << v.number << " lost its artifact";
      EXPECT_EQ(bytes, model_bytes);
      ASSERT_TRUE(v.dataset.has_value());
      EXPECT_EQ(v.dataset->rows, 100);
      EXPECT_FALSE(v.profile_json.empty());
    }
    // Whatever is under a digest's name is complete.
    for (const std::string& digest : artifacts.list()) EXPECT_NO_THROW(artifacts.read(digest)) << digest;
  }
  EXPECT_GT(killed, 0);
  EXPECT_GE(completed, 1);
  EXPECT_GE(versions_seen, completed);

  // The registry still works: a further push gets the next number, and gc cleans up what kills left.
  const CommandResult next = ok("push", "killed " + q(kChurnXgb) + " --dataset " + q(kChurnCsv) + " --label target");
  EXPECT_EQ(next.out, "killed:" + std::to_string(versions_seen + 1) + "\n");
  ok("gc", "--min-age 0");
  EXPECT_TRUE(fs::is_empty(data_ + "/artifacts/tmp"));
  EXPECT_EQ(ArtifactStore(data_ + "/artifacts").list(), (std::set<std::string>{model_digest}));
  EXPECT_EQ(SqliteStore(data_ + "/registry.db").integrity_check(), "ok");
  RecordProperty("killed", killed);
  RecordProperty("completed", completed);
}

}  // namespace
}  // namespace orchard

namespace orchard {
namespace {

// The same verbs against a real PostgreSQL store (--store URL), as several servers sharing one
// registry would use it. Runs when $ORCHARD_TEST_POSTGRES names a server (scripts/test.sh).
TEST(RegistryCliPostgres, VerbsWorkOnASharedPostgresStore) {
  if (testing::postgres_url().empty()) GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set: the CLI ran on SQLite only";
  const std::string dir = testing::temp_dir() + "/cli-postgres";
  const std::string url = testing::fresh_postgres_database("cli-postgres");
  const std::string where = " --data '" + dir + "' --store '" + url + "'";
  const std::string churn = testing::source_dir() + "/examples/churn/";
  auto ok = [&](const std::string& args) {
    const auto result = testing::run_orchard(args + where);
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
    return result.out;
  };
  EXPECT_EQ(ok("push churn '" + churn + "churn_xgboost.ubj' --alias production --dataset '" + churn + "customers.csv' --label target"), "churn:1\n");
  EXPECT_EQ(ok("push churn '" + churn + "churn_lightgbm.txt'"), "churn:2\n");
  // Concurrent pushes from several processes get distinct numbers.
  std::string parallel;
  for (int i = 0; i < 4; ++i) parallel += "'" + testing::orchard_binary() + "' push churn '" + churn + "churn_lightgbm.txt'" + where + " >/dev/null 2>&1 & ";
  ASSERT_EQ(std::system((parallel + "wait").c_str()), 0);
  const auto versions = nlohmann::json::parse(ok("versions churn --json"));
  ASSERT_EQ(versions.size(), 6u);
  for (std::size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i]["version"].get<int>(), static_cast<int>(i + 1));
  EXPECT_TRUE(versions[0]["has_reference_profile"].get<bool>());
  EXPECT_EQ(ok("promote churn 2 --alias production"), "churn@production: 1 -> 2\n");
  EXPECT_EQ(ok("rollback churn --alias production"), "churn@production: 2 -> 1\n");
  EXPECT_EQ(nlohmann::json::parse(ok("show churn --json"))["version"].get<int>(), 1);
  const auto evaluation = nlohmann::json::parse(ok("evaluate churn 1 2 '" + churn + "customers.csv' --label target --json --no-speed"));
  EXPECT_EQ(evaluation.size(), 2u);
  const auto audit = nlohmann::json::parse(ok("audit churn --json --limit 100"));
  EXPECT_GE(audit.size(), 10u);
  // A server that is not there: a clear error, exit 6.
  const auto down = testing::run_orchard("models --data '" + dir + "' --store postgresql://orchard:secret@127.0.0.1:1/none");
  EXPECT_EQ(down.exit_code, 6);
  EXPECT_NE(down.err.find("cannot connect"), std::string::npos) << down.err;
  EXPECT_EQ(down.err.find("secret"), std::string::npos) << "the password is not printed";
}

}  // namespace
}  // namespace orchard
