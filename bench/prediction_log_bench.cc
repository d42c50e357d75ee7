// The prediction log's writer: records per second into the SQLite sink (the target is
// >= 50,000 records/s), async and durable, for single-row requests of 30 features (breast cancer's
// shape) and for 100-row requests; and what reading a million-row log costs (lookups by id, a
// filtered page, feedback).
//
//   build/bench/orchard_prediction_log_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "engine/model.h"
#include "tracing/prediction_log.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {
namespace {

std::shared_ptr<const PredictionContext> context(int features) {
  Model model;
  model.source_format = "bench";
  for (int f = 0; f < features; ++f) model.features.push_back({"f" + std::to_string(f)});
  Tree tree;
  tree.nodes.push_back(TreeNode{});
  tree.leaf_values.push_back(0.5);
  model.trees.push_back(tree);
  model.base_margin = {0.0};
  model.output_names = {"score"};
  auto c = std::make_shared<PredictionContext>();
  c->endpoint = "bench";
  c->model = "bench";
  c->version = 1;
  c->artifact_sha256 = std::string(64, 'b');
  c->arm = "@production";
  c->predictor = std::make_shared<const Predictor>(model, "bench");
  return c;
}

PredictionEntry make_entry(const std::shared_ptr<const PredictionContext>& c, std::size_t rows, int features) {
  PredictionEntry e;
  e.context = c;
  e.ids.resize(rows);
  new_prediction_ids(e.ids.data(), rows);
  e.rows.assign(rows * static_cast<std::size_t>(features), 0.123456789);
  e.outputs.assign(rows, 0.987654321);
  e.width = 1;
  e.latency_us = 12.5;
  e.caller = "127.0.0.1";
  return e;
}

std::string fresh_path() {
  static int counter = 0;
  const std::string path = "/tmp/orchard-log-bench-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

// The sink alone: one batch (group commit) of `rows_per_batch` single-row entries per iteration.
void BM_SqliteSinkWrite(benchmark::State& state) {
  const auto entries_per_batch = static_cast<std::size_t>(state.range(0));
  const auto rows_per_entry = static_cast<std::size_t>(state.range(1));
  const bool sync = state.range(2) != 0;
  const std::string path = fresh_path();
  auto sink = SqlPredictionSink::open(path);
  const auto c = context(30);
  std::size_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PredictionEntry> batch;
    for (std::size_t i = 0; i < entries_per_batch; ++i) batch.push_back(make_entry(c, rows_per_entry, 30));
    state.ResumeTiming();
    sink->write(views_of(batch), sync);
    rows += entries_per_batch * rows_per_entry;
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  sink.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
BENCHMARK(BM_SqliteSinkWrite)->Args({1000, 1, 0})->Args({10, 100, 0})->Args({1, 1, 1})->Args({100, 1, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

// The same into PostgreSQL, when $ORCHARD_BENCH_POSTGRES names a database (its prediction_* tables
// are created if needed; rows accumulate there).
void BM_PostgresSinkWrite(benchmark::State& state) {
  const char* url = std::getenv("ORCHARD_BENCH_POSTGRES");
  if (!url || !*url) {
    state.SkipWithError("set ORCHARD_BENCH_POSTGRES=postgresql://... to measure the PostgreSQL sink");
    return;
  }
  const auto entries_per_batch = static_cast<std::size_t>(state.range(0));
  const bool sync = state.range(1) != 0;
  auto sink = SqlPredictionSink::open(url);
  const auto c = context(30);
  std::size_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PredictionEntry> batch;
    for (std::size_t i = 0; i < entries_per_batch; ++i) batch.push_back(make_entry(c, 1, 30));
    state.ResumeTiming();
    sink->write(views_of(batch), sync);
    rows += entries_per_batch;
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PostgresSinkWrite)->Args({1000, 0})->Args({1, 1})->Args({100, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

// Reads from a log of a million 30-feature rows of three endpoints, written in 1000-row group commits:
// what blocks cost lookups by id, filtered searches and feedback.
SqlPredictionSink& million_row_log(std::vector<PredictionId>& ids) {
  static std::vector<PredictionId> all;
  static std::unique_ptr<SqlPredictionSink> sink = [] {
    auto s = SqlPredictionSink::open(fresh_path());
    std::vector<std::shared_ptr<const PredictionContext>> contexts;
    for (const char* endpoint : {"a", "b", "c"}) {
      auto c = std::make_shared<PredictionContext>(*context(30));
      c->endpoint = endpoint;
      contexts.push_back(c);
    }
    for (int batch = 0; batch < 1000; ++batch) {
      std::vector<PredictionEntry> entries;
      for (int e = 0; e < 1000; ++e) entries.push_back(make_entry(contexts[static_cast<std::size_t>(e % 3)], 1, 30));
      for (const auto& e : entries) all.push_back(e.ids[0]);
      s->write(views_of(entries), false);
    }
    return s;
  }();
  ids = all;
  return *sink;
}

void BM_SqliteSinkFind(benchmark::State& state) {
  std::vector<PredictionId> ids;
  SqlPredictionSink& sink = million_row_log(ids);
  std::size_t i = 0;
  for (auto _ : state) {
    if (!sink.find(ids[(i++ * 7919) % ids.size()])) state.SkipWithError("not found");
  }
}
BENCHMARK(BM_SqliteSinkFind)->Unit(benchmark::kMicrosecond);

void BM_SqliteSinkSearchNewestOfEndpoint(benchmark::State& state) {
  std::vector<PredictionId> ids;
  SqlPredictionSink& sink = million_row_log(ids);
  PredictionQuery query;
  query.endpoint = "b";
  query.limit = 50;
  for (auto _ : state) {
    if (sink.search(query).size() != 50) state.SkipWithError("short page");
  }
}
BENCHMARK(BM_SqliteSinkSearchNewestOfEndpoint)->Unit(benchmark::kMicrosecond);

// A feedback batch of 100 labels for predictions made close together (labels usually arrive in the
// order the predictions were made).
void BM_SqliteSinkFeedback100(benchmark::State& state) {
  std::vector<PredictionId> ids;
  SqlPredictionSink& sink = million_row_log(ids);
  std::size_t start = 0;
  for (auto _ : state) {
    std::vector<Feedback> items;
    for (std::size_t k = 0; k < 100; ++k) items.push_back({ids[(start + k) % ids.size()], 1.0});
    start = (start + 100003) % ids.size();
    sink.add_feedback(items);
  }
  state.counters["labels/s"] = benchmark::Counter(static_cast<double>(state.iterations() * 100), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SqliteSinkFeedback100)->Unit(benchmark::kMillisecond);

// The whole log from a request thread's point of view: enqueue one single-row entry (the cost on
// the request path), with the writer draining in the background.
void BM_PredictionLogEnqueue(benchmark::State& state) {
  const std::string path = fresh_path();
  auto log = std::make_unique<PredictionLog>(SqlPredictionSink::open(path));
  const auto c = context(30);
  std::size_t n = 0;
  for (auto _ : state) {
    if (!log->enqueue(make_entry(c, 1, 30))) state.SkipWithError("queue full");
    if (++n % 4096 == 0) {  // let the writer catch up outside the timing: this measures the request path
      state.PauseTiming();
      log->flush();
      state.ResumeTiming();
    }
  }
  log->flush();
  state.counters["written"] = static_cast<double>(log->written_rows());
  log.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
BENCHMARK(BM_PredictionLogEnqueue)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace orchard

BENCHMARK_MAIN();
