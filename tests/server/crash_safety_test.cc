// Crash safety of the whole server: SIGKILL `orchard serve` at random moments while clients push
// versions, move an alias and predict (durably), and while a CLI push runs beside it; after every
// restart the registry passes SQLite's integrity check, every acknowledged push is there with its
// artifact, every acknowledged alias change is in the alias's history, every acknowledged durable
// prediction is in the log, and the server serves again.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <csignal>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "registry/artifact_store.h"
#include "registry/sqlite_store.h"
#include "server/http_client.h"
#include "server/server_fixture.h"
#include "support/test_support.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {
namespace {

using nlohmann::json;

struct Acknowledged {
  std::mutex mutex;
  std::set<std::int64_t> versions;                  // pushes answered 201
  std::vector<std::int64_t> alias_targets;          // alias changes answered 200, in order
  std::vector<std::string> predictions;             // durable predictions answered 200
};

pid_t spawn_cli_push(const std::string& data, const std::string& model_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    const std::string binary = testing::orchard_binary();
    execl(binary.c_str(), binary.c_str(), "push", "cli-pushed", model_path.c_str(), "--data", data.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

TEST(CrashSafety, SigkillDuringPushesAliasChangesAndTrafficLosesNothingAcknowledged) {
  const std::string data = testing::temp_dir() + "/crash-safety";
  std::filesystem::create_directories(data);
  const std::string model_path = testing::examples_dir() + "/churn/churn_lightgbm.txt";
  const std::string model_bytes = testing::read_text(model_path);
  const std::string row = testing::v2_matrix({testing::churn_data().rows[0]}).dump();
  Acknowledged acked;
  std::mt19937 rng(20261126);
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    testing::ServerProcess server({"--poll-seconds", "3600", "--trace-mode", "durable", "--threads", "6"}, /*demo=*/true, data);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    clients.emplace_back([&] {  // pushes of a new version of "crash"
      try {
        testing::HttpClient client(server.port(), std::chrono::seconds(5));
        while (!stop) {
          const auto r = client.post("/api/v1/models/crash/versions", model_bytes, {{"Content-Type", "application/octet-stream"}});
          if (r.status != 201) continue;
          std::lock_guard lock(acked.mutex);
          acked.versions.insert(json::parse(r.body)["version"].get<std::int64_t>());
        }
      } catch (const std::exception&) {
      }
    });
    clients.emplace_back([&] {  // churn@staging moves between versions 1 and 2
      try {
        testing::HttpClient client(server.port(), std::chrono::seconds(5));
        for (std::int64_t target = 1; !stop; target = 3 - target) {
          const auto r = client.put("/api/v1/models/churn/aliases/staging", json{{"version", target}}.dump());
          if (r.status != 200) continue;
          const json change = json::parse(r.body);
          if (change["from_version"] == change["to_version"]) continue;  // already there: nothing to record
          std::lock_guard lock(acked.mutex);
          acked.alias_targets.push_back(target);
        }
      } catch (const std::exception&) {
      }
    });
    clients.emplace_back([&] {  // durable predictions
      try {
        testing::HttpClient client(server.port(), std::chrono::seconds(5));
        while (!stop) {
          const auto r = client.post("/v2/models/churn/infer", row);
          if (r.status != 200) continue;
          std::lock_guard lock(acked.mutex);
          acked.predictions.push_back(json::parse(r.body)["parameters"]["prediction_ids"][0].get<std::string>());
        }
      } catch (const std::exception&) {
      }
    });
    const pid_t cli = spawn_cli_push(data, model_path);  // a CLI writing the same registry
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 700)(rng)));
    server.signal(SIGKILL);
    ::kill(cli, SIGKILL);
    ::waitpid(cli, nullptr, 0);
    stop = true;
    for (auto& c : clients) c.join();
    ASSERT_TRUE(server.wait_exit(std::chrono::seconds(10)).has_value());

    // After the crash: consistent, and everything acknowledged is there.
    SqliteStore store(data + "/registry.db");
    ASSERT_EQ(store.integrity_check(), "ok");
    const auto versions = store.list_versions("crash");
    for (std::size_t i = 0; i < versions.size(); ++i) ASSERT_EQ(versions[i].number, static_cast<std::int64_t>(i + 1)) << "numbers not contiguous";
    ArtifactStore artifacts(data + "/artifacts");
    std::lock_guard lock(acked.mutex);
    for (std::int64_t v : acked.versions) {
      ASSERT_LE(v, static_cast<std::int64_t>(versions.size())) << "acknowledged push of version " << v << " lost";
      EXPECT_EQ(artifacts.read(versions[static_cast<std::size_t>(v - 1)].artifact_sha256), model_bytes);
    }
    // The alias's history holds every acknowledged change, in order (a change in flight may follow).
    std::size_t at = 0;
    for (const auto& change : store.alias_history("churn", "staging")) {
      if (at < acked.alias_targets.size() && change.to_version == acked.alias_targets[at] && change.kind == "set") ++at;
    }
    EXPECT_EQ(at, acked.alias_targets.size()) << "acknowledged alias changes missing from the history";
    auto log = SqlPredictionSink::open(data + "/predictions.db");
    std::size_t missing = 0;
    for (const auto& id : acked.predictions) missing += !log->find(*PredictionId::parse(id));
    EXPECT_EQ(missing, 0u) << "of " << acked.predictions.size() << " acknowledged durable predictions";
  }
  EXPECT_GT(acked.versions.size(), 0u);
  EXPECT_GT(acked.alias_targets.size(), 0u);
  EXPECT_GT(acked.predictions.size(), 0u);
  // It still serves.
  testing::ServerProcess server({"--poll-seconds", "3600"}, /*demo=*/true, data);
  testing::HttpClient client(server.port());
  EXPECT_EQ(client.post("/v2/models/churn/infer", row).status, 200);
  EXPECT_EQ(server.stop(), 0);
  RecordProperty("acknowledged_pushes", static_cast<int>(acked.versions.size()));
  RecordProperty("acknowledged_alias_changes", static_cast<int>(acked.alias_targets.size()));
  RecordProperty("acknowledged_predictions", static_cast<int>(acked.predictions.size()));
}

}  // namespace
}  // namespace orchard
