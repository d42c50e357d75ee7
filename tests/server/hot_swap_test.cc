// The server under change and under stress, against the real `orchard serve --demo`:
//  - hot swap: four keep-alive clients send predictions without pause while the production alias
//    flips 100 times and the endpoint's route changes; no request fails and every answer comes,
//    unmixed, from a version that was live while the request was being answered;
//  - shutdown: SIGTERM lets the requests in flight finish (200) and exits 0;
//  - slow clients: a request that stalls is closed after --read-timeout / --idle-timeout while
//    everyone else keeps being served.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using json = nlohmann::json;
using testing::churn_data;
using testing::HttpClient;
using testing::HttpError;
using testing::is_json_error;
using testing::parse;
using testing::RawConnection;
using testing::Response;
using testing::ServerProcess;
using testing::v2_matrix;
using testing::v2_output;
using testing::values_match;
using Clock = std::chrono::steady_clock;

// The customers whose predictions differ between version 1 and version 2, so that an answer tells
// which version computed it.
std::vector<std::size_t> distinguishing_rows() {
  const auto& churn = churn_data();
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < churn.rows.size(); ++r) {
    if (std::abs(churn.xgboost[r] - churn.lightgbm[r]) > 1e-3) rows.push_back(r);
  }
  return rows;
}

// Stops and joins background threads however the test leaves its scope (a failed ASSERT included).
class JoinOnExit {
 public:
  JoinOnExit(std::atomic<bool>& stop, std::vector<std::thread>& threads) : stop_(stop), threads_(threads) {}
  ~JoinOnExit() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  JoinOnExit(const JoinOnExit&) = delete;
  JoinOnExit& operator=(const JoinOnExit&) = delete;

 private:
  std::atomic<bool>& stop_;
  std::vector<std::thread>& threads_;
};

std::string infer_request_head(std::size_t body_size) {
  return "POST /v2/models/churn/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body_size) + "\r\n\r\n";
}

TEST(HotSwapTest, AliasFlipsAndRouteChangesUnderLoadLoseNoRequest) {
  // Background refreshes every 0.2 s on top of the API's own.
  ServerProcess server({"--poll-seconds", "0.2"});
  const auto& churn = churn_data();
  const std::vector<std::size_t> rows = distinguishing_rows();
  ASSERT_GT(rows.size(), 50u);

  struct Sample {
    Clock::time_point sent, received;
    std::int64_t version = 0;
  };
  struct Change {
    Clock::time_point start, end;  // the alias was `from` before start and `to` after end
    std::int64_t from = 0, to = 0;
  };
  constexpr int kClients = 4;
  constexpr int kFlips = 100;
  std::atomic<bool> done{false};
  std::vector<std::vector<Sample>> samples(kClients);
  std::vector<std::vector<std::string>> failures(kClients);
  std::vector<std::size_t> connections(kClients, 0);
  std::vector<std::thread> clients;
  JoinOnExit join_clients(done, clients);
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      HttpClient client(server.port());
      std::size_t i = static_cast<std::size_t>(t) * 7;
      while (!done) {
        const std::size_t row = rows[i % rows.size()];
        const bool mlflow = (i + static_cast<std::size_t>(t)) % 3 == 0;
        ++i;
        Sample sample;
        sample.sent = Clock::now();
        Response response;
        try {
          response = mlflow ? client.post("/endpoints/churn/invocations", json({{"instances", testing::row_lists({churn.rows[row]})}}).dump())
                            : client.post("/v2/models/churn/infer", v2_matrix({churn.rows[row]}).dump());
        } catch (const HttpError& e) {
          failures[t].push_back(e.what());
          continue;
        }
        sample.received = Clock::now();
        if (response.status != 200) {
          failures[t].push_back(testing::describe(response));
          continue;
        }
        sample.version = testing::version_from_header(response);
        if (sample.version != 1 && sample.version != 2) {
          failures[t].push_back("version header \"" + response.header("orchard-model-version") + "\"");
          continue;
        }
        const json body = parse(response.body);
        const double value = mlflow ? body["predictions"][0].get<double>() : v2_output(body).at(0);
        if (!values_match({value}, {churn.expected(sample.version)[row]})) {
          failures[t].push_back("row " + std::to_string(row) + " answered by version " + std::to_string(sample.version) + " with " +
                                std::to_string(value) + ", which is not that version's prediction");
        }
        samples[t].push_back(sample);
      }
      connections[t] = client.connections_opened();
    });
  }

  // Flip the production alias 100 times; every tenth flip also changes the endpoint's route, to
  // routes that still answer with the production version.
  const std::vector<std::string> routes = {
      R"({"model": "churn", "arms": [{"target": "@production"}]})",
      R"({"model": "churn", "arms": [{"target": "@production"}], "shadows": ["@staging"]})",
      R"({"model": "churn", "arms": [{"target": "@production", "weight": 2}], "sticky": "header:x-user-id"})",
      "",  // DELETE: back to the default route
  };
  std::vector<Change> changes;
  std::vector<std::string> admin_failures;
  try {
    HttpClient admin(server.port());
    std::int64_t current = 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int k = 0; k < kFlips; ++k) {
      const std::int64_t next = current == 1 ? 2 : 1;
      Change change;
      change.from = current;
      change.to = next;
      change.start = Clock::now();
      const Response flipped = admin.put("/api/v1/models/churn/aliases/production", R"({"version": )" + std::to_string(next) + "}");
      change.end = Clock::now();
      if (flipped.status != 200) admin_failures.push_back(testing::describe(flipped));
      changes.push_back(change);
      current = next;
      if (k % 10 == 5) {
        const std::string& route = routes[static_cast<std::size_t>(k / 10) % routes.size()];
        const Response changed = route.empty() ? admin.request("DELETE", "/api/v1/endpoints/churn") : admin.put("/api/v1/endpoints/churn", route);
        if (changed.status != 200) admin_failures.push_back(testing::describe(changed));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } catch (const HttpError& e) {
    admin_failures.push_back(e.what());
  }
  done = true;
  for (auto& thread : clients) thread.join();

  EXPECT_TRUE(admin_failures.empty()) << admin_failures.front();
  std::size_t total = 0, failed = 0;
  std::set<std::int64_t> versions_seen;
  for (int t = 0; t < kClients; ++t) {
    total += samples[t].size();
    failed += failures[t].size();
    EXPECT_GE(samples[t].size(), 50u) << "client " << t << " got few answers";
    EXPECT_EQ(connections[t], 1u) << "client " << t << " had to reconnect";
    for (const auto& sample : samples[t]) versions_seen.insert(sample.version);
    if (!failures[t].empty()) ADD_FAILURE() << failures[t].size() << " failed requests on client " << t << ", first: " << failures[t].front();
  }
  EXPECT_EQ(failed, 0u);
  RecordProperty("requests", static_cast<int>(total));
  EXPECT_EQ(versions_seen, (std::set<std::int64_t>{1, 2}));

  // Each answer's version was the alias's target at some moment between sending and receiving.
  // Between changes the target is known; during a change (request sent, response not yet back) it
  // may be either.
  auto possible = [&](const Sample& s) {
    Clock::time_point stable_from = Clock::time_point::min();
    std::int64_t stable = 1;
    for (const Change& c : changes) {
      // [stable_from, c.start]: `stable`; [c.start, c.end]: c.from or c.to.
      if (stable_from <= s.received && c.start >= s.sent && stable == s.version) return true;
      if (c.start <= s.received && c.end >= s.sent && (c.from == s.version || c.to == s.version)) return true;
      stable_from = c.end;
      stable = c.to;
    }
    return stable_from <= s.received && stable == s.version;
  };
  std::size_t impossible = 0;
  for (const auto& per_client : samples) {
    for (const auto& sample : per_client) impossible += possible(sample) ? 0 : 1;
  }
  EXPECT_EQ(impossible, 0u) << "answers from a version that was not live during the request, out of " << total;

  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST(ShutdownTest, SigtermFinishesRequestsInFlightAndExitsZero) {
  ServerProcess server;
  const auto& churn = churn_data();

  // Requests in flight: headers and half of the body sent when SIGTERM arrives.
  constexpr std::size_t kInFlight = 3;
  std::vector<std::unique_ptr<RawConnection>> in_flight;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < kInFlight; ++i) {
    const std::string body = v2_matrix({churn.rows[i]}).dump();
    in_flight.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(in_flight.back()->send(infer_request_head(body.size()) + body.substr(0, body.size() / 2)));
    rest.push_back(body.substr(body.size() / 2));
  }
  // A keep-alive client busy all along, and one that is connected but idle.
  std::atomic<bool> stop_load{false};
  std::vector<int> statuses;
  std::vector<std::thread> load;
  JoinOnExit join_load(stop_load, load);
  load.emplace_back([&] {
    HttpClient client(server.port(), std::chrono::seconds(10));
    while (!stop_load) {
      try {
        statuses.push_back(client.post("/v2/models/churn/infer", v2_matrix({churn.rows[7]}).dump()).status);
      } catch (const HttpError&) {
        break;  // the server closed the connection, or no longer accepts: expected after SIGTERM
      }
    }
  });
  HttpClient idle(server.port());
  ASSERT_EQ(idle.get("/v2/health/live").status, 200);

  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(server.running()) << "the server exited with requests in flight";

  // The requests in flight complete normally (and their connections then close).
  for (std::size_t i = 0; i < kInFlight; ++i) {
    ASSERT_TRUE(in_flight[i]->send(rest[i])) << "connection " << i << " was closed with its request in flight";
    const Response response = in_flight[i]->read_response(std::chrono::seconds(10));
    EXPECT_EQ(response.status, 200) << testing::describe(response);
    EXPECT_FALSE(response.keep_alive);
    EXPECT_TRUE(values_match(v2_output(parse(response.body)), {churn.xgboost[i]}));
  }
  const auto code = server.wait_exit(std::chrono::seconds(10));
  stop_load = true;
  load.front().join();
  ASSERT_TRUE(code.has_value()) << "still running 10 s after SIGTERM:\n" << server.log();
  EXPECT_EQ(*code, 0) << server.log();
  EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();

  EXPECT_FALSE(statuses.empty());
  for (int status : statuses) EXPECT_EQ(status, 200);
  // Gone: new connections are refused.
  EXPECT_THROW(HttpClient(server.port(), std::chrono::seconds(2)).get("/v2/health/live"), HttpError);
}

TEST(SlowClientTest, StalledRequestsAreClosedWhileOthersAreServed) {
  ServerProcess server({"--read-timeout", "1", "--idle-timeout", "1"});
  const auto& churn = churn_data();
  const std::string body = v2_matrix({churn.rows[0]}).dump();

  const auto start = Clock::now();
  RawConnection half_header(server.port());
  ASSERT_TRUE(half_header.send("POST /v2/models/churn/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-"));
  RawConnection half_body(server.port());
  ASSERT_TRUE(half_body.send(infer_request_head(body.size()) + body.substr(0, 10)));

  // Meanwhile, requests on another connection are answered at once.
  std::atomic<bool> stop_load{false};
  std::vector<int> statuses;
  double slowest = 0;
  std::vector<std::thread> load;
  JoinOnExit join_load(stop_load, load);
  load.emplace_back([&] {
    HttpClient client(server.port(), std::chrono::seconds(10));
    while (!stop_load) {
      const auto t0 = Clock::now();
      try {
        statuses.push_back(client.post("/v2/models/churn/infer", body).status);
      } catch (const HttpError&) {
        statuses.push_back(-1);
        break;
      }
      slowest = std::max(slowest, std::chrono::duration<double>(Clock::now() - t0).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // The stalled header: closed after the idle timeout (nothing to answer: no request yet).
  const auto a = half_header.read_until_closed(std::chrono::seconds(8));
  const double a_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(a.closed) << "a half-sent header kept its connection open for 8 s";
  EXPECT_GE(a_seconds, 0.9);
  EXPECT_LT(a_seconds, 5.0);
  if (!a.data.empty()) {
    EXPECT_TRUE(is_json_error(testing::parse_response(a.data), 408));
  }
  // The stalled body: closed after the read timeout (with a 408 when there is one: see
  // StalledBodyGets408).
  const auto b = half_body.read_until_closed(std::chrono::seconds(8));
  const double b_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(b.closed) << "a half-sent body kept its connection open for 8 s";
  EXPECT_LT(b_seconds, 5.0);
  if (!b.data.empty()) {
    EXPECT_TRUE(is_json_error(testing::parse_response(b.data), 408));
  }

  stop_load = true;
  load.front().join();
  EXPECT_GT(statuses.size(), 10u);
  for (int status : statuses) EXPECT_EQ(status, 200);
  EXPECT_LT(slowest, 0.9) << "a request waited behind the stalled clients";

  // A kept-alive connection left idle past --idle-timeout is closed too.
  RawConnection keep(server.port());
  ASSERT_TRUE(keep.send("GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const Response live = keep.read_response(std::chrono::seconds(5));
  EXPECT_EQ(live.status, 200);
  EXPECT_TRUE(live.keep_alive);
  const auto idle_start = Clock::now();
  const auto c = keep.read_until_closed(std::chrono::seconds(8));
  const double idle_seconds = std::chrono::duration<double>(Clock::now() - idle_start).count();
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(c.data.empty()) << c.data;
  EXPECT_GE(idle_seconds, 0.5);
  EXPECT_LT(idle_seconds, 5.0);

  // And the server still serves.
  HttpClient fresh(server.port());
  EXPECT_EQ(fresh.post("/v2/models/churn/infer", body).status, 200);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

// BUG (reported, not fixed): a request whose body stalls is closed without the 408 that --read-timeout
// promises ("408 after"). beast::tcp_stream closes the socket when its timer expires, so the 408 that
// on_read() writes after beast::error::timeout can never be sent.
TEST(SlowClientTest, StalledBodyGets408) {
  ServerProcess server({"--read-timeout", "1", "--idle-timeout", "1"});
  const std::string body = v2_matrix({churn_data().rows[0]}).dump();
  RawConnection half_body(server.port());
  ASSERT_TRUE(half_body.send(infer_request_head(body.size()) + body.substr(0, 10)));
  const auto b = half_body.read_until_closed(std::chrono::seconds(8));
  EXPECT_TRUE(b.closed);
  ASSERT_TRUE(testing::holds_whole_response(b.data)) << "no 408: " << b.data;
  EXPECT_TRUE(is_json_error(testing::parse_response(b.data), 408));
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
