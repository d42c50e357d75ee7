// scikit-learn models against an XGBoost model of the same shape, per tree.
//
//   /usr/bin/python3 bench/sklearn_models.py ../shared/fixtures /tmp/sklearn-bench   (once)
//   ORCHARD_SKLEARN_MODELS=/tmp/sklearn-bench build/bench/orchard_sklearn_bench
//
// The XGBoost fixture higgs_large (500 trees, depth 8, 28 features) and the models sklearn_models.py
// trains in its shape (RandomForestClassifier and RandomForestRegressor with max_depth 8,
// HistGradientBoostingClassifier with max_depth 8, 500 trees each) predict the same 10 000 higgs_like
// rows through the same Predictor; the counter ns_per_row_tree (batch time / rows / trees) is the
// per-tree cost the issue compares. Single rows are timed per call as in engine_bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "engine/thread_pool.h"
#include "formats/model_loader.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace {

struct Subject {
  std::string name;
  std::shared_ptr<const orchard::Predictor> predictor;
  std::vector<double> rows;
  std::size_t count = 0;
  double trees = 0;
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

Subject load(const std::string& name, const std::string& model_path, const std::string& input) {
  Subject s;
  s.name = name;
  s.predictor = std::make_shared<const orchard::Predictor>(orchard::load_model_file(model_path), model_path);
  s.trees = static_cast<double>(s.predictor->model().trees.size());
  orchard::CsvReader reader(input);
  orchard::ColumnMapping mapping(s.predictor->model(), reader.header(), input);
  std::vector<std::string_view> cells;
  const std::size_t nf = static_cast<std::size_t>(s.predictor->num_features());
  while (reader.next_row(cells)) {
    s.rows.resize((s.count + 1) * nf);
    mapping.fill(cells, reader.line_number(), s.rows.data() + s.count * nf);
    ++s.count;
  }
  return s;
}

void batch(benchmark::State& state, const Subject* s) {
  orchard::ThreadPool pool(static_cast<int>(state.range(0)));
  std::vector<double> out(s->count * static_cast<std::size_t>(s->predictor->num_values(false)));
  for (auto _ : state) {
    s->predictor->predict_rows(s->rows.data(), s->count, out.data(), false, &pool);
    benchmark::DoNotOptimize(out.data());
  }
  const double rows = static_cast<double>(state.iterations() * s->count);
  state.counters["rows_per_s"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
  state.counters["ns_per_row_tree"] = benchmark::Counter(rows * s->trees * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void single(benchmark::State& state, const Subject* s) {
  const std::size_t nf = static_cast<std::size_t>(s->predictor->num_features());
  double out[64];
  std::vector<double> samples;
  samples.reserve(1 << 20);
  std::size_t r = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    s->predictor->predict_row(s->rows.data() + r * nf, out, false);
    benchmark::DoNotOptimize(out[0]);
    const auto stop = std::chrono::steady_clock::now();
    if (samples.size() < samples.capacity()) samples.push_back(std::chrono::duration<double, std::nano>(stop - start).count());
    if (++r == s->count) r = 0;
  }
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    state.counters["p50_us"] = samples[samples.size() / 2] / 1000.0;
    state.counters["p50_ns_per_tree"] = samples[samples.size() / 2] / s->trees;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string fixtures = env_or("ORCHARD_FIXTURES", ORCHARD_DEFAULT_FIXTURES);
  const std::string models = env_or("ORCHARD_SKLEARN_MODELS", "/tmp/sklearn-bench");
  const std::string input = fixtures + "/data/higgs_like_test.csv";
  if (!std::filesystem::exists(models + "/rf_classifier_higgs.json")) {
    std::cerr << "no scikit-learn models in " << models << ": run /usr/bin/python3 bench/sklearn_models.py " << fixtures << " "
              << models << " first (or set ORCHARD_SKLEARN_MODELS)\n";
    return 1;
  }
  static std::vector<Subject> subjects;
  subjects.push_back(load("xgboost/higgs_large", fixtures + "/models/xgboost/higgs_large.json", input));
  for (const char* name : {"rf_classifier_higgs", "rf_regressor_higgs", "hist_gb_classifier_higgs"}) {
    subjects.push_back(load(std::string("sklearn/") + name, models + "/" + name + ".json", input));
  }
  for (const Subject& s : subjects) {
    std::cerr << s.name << ": " << s.predictor->describe() << "\n";
    benchmark::RegisterBenchmark(("single/" + s.name).c_str(), single, &s)->MinTime(0.3);
    benchmark::RegisterBenchmark(("batch/" + s.name).c_str(), batch, &s)->Arg(1)->Arg(2)->ArgName("threads")->MinTime(0.3)->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
