// Drift monitoring's cost on the prediction log's writer thread: DriftMonitor::observe per row, for a
// model of 30 numeric features (decile bins, as dataset_profile writes them) and one output, with
// requests of 1 and of 64 rows; and the cost of a report over a full day of minute buckets.
//
//   build/bench/orchard_monitoring_bench [--benchmark_filter=Observe]
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <random>

#include "monitoring/drift_monitor.h"

namespace {

using namespace orchard;
constexpr int kFeatures = 30;

std::string make_profile() {
  nlohmann::json features = nlohmann::json::array();
  for (int f = 0; f < kFeatures; ++f) {
    std::string name = std::to_string(f);
    name.insert(name.begin(), 'f');
    features.push_back({{"name", name}, {"missing", 10}, {"missing_rate", 0.001}, {"kind", "numeric"},
                        {"edges", {-1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28}},
                        {"counts", {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}}});
  }
  nlohmann::json output = {{"name", "prediction"}, {"edges", {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}},
                           {"counts", {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}}};
  return nlohmann::json{{"format", 1}, {"rows", 10010}, {"features", features}, {"predictions", {output}}}.dump();
}

PredictionEntry make_entry(std::size_t rows, const std::shared_ptr<const PredictionContext>& context, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  PredictionEntry entry;
  entry.context = context;
  entry.ids.resize(rows);
  entry.width = 1;
  for (std::size_t i = 0; i < rows * kFeatures; ++i) entry.rows.push_back(i % 97 == 0 ? NAN : normal(rng));
  for (std::size_t i = 0; i < rows; ++i) entry.outputs.push_back(uniform(rng));
  return entry;
}

std::shared_ptr<const PredictionContext> make_context() {
  // Without a predictor the monitor takes the feature count from the profile: the per-row work is
  // the same, and the benchmark does not depend on building a model.
  return std::make_shared<const PredictionContext>(PredictionContext{"bench", "m", 1, "", "@production", nullptr});
}

void BM_Observe(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const std::string profile = make_profile();
  DriftMonitor monitor([&](const std::string&, std::int64_t) { return profile; });
  std::mt19937_64 rng(1);
  const auto context = make_context();
  std::vector<PredictionEntry> entries;
  for (int i = 0; i < 64; ++i) entries.push_back(make_entry(rows, context, rng));
  const std::vector<PredictionView> views = views_of(entries);
  monitor.observe(entries[0].view());  // the profile lookup and the first bucket happen once, outside the timing
  std::size_t i = 0;
  for (auto _ : state) monitor.observe(views[i++ % views.size()]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  // Seconds per row, printed by Google Benchmark with a unit (e.g. "412n" = 412 ns).
  state.counters["per_row"] = benchmark::Counter(static_cast<double>(state.iterations() * rows),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Observe)->Arg(1)->Arg(64);

void BM_ReportFullDay(benchmark::State& state) {
  const std::string profile = make_profile();
  auto seconds = std::make_shared<std::int64_t>(1'800'000'000);
  DriftMonitorOptions options;
  options.clock = [seconds] { return std::chrono::system_clock::time_point(std::chrono::seconds(*seconds)); };
  DriftMonitor monitor([&](const std::string&, std::int64_t) { return profile; }, options);
  std::mt19937_64 rng(1);
  const auto context = make_context();
  const PredictionEntry entry = make_entry(16, context, rng);
  for (int minute = 0; minute < 1440; ++minute, *seconds += 60) monitor.observe(entry.view());  // every bucket in use
  state.counters["bucket_MiB"] = static_cast<double>(monitor.bucket_bytes()) / (1024.0 * 1024.0);
  for (auto _ : state) benchmark::DoNotOptimize(monitor.report("bench", std::chrono::hours(24)));
}
BENCHMARK(BM_ReportFullDay)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
