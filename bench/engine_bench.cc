// Engine benchmarks: single-row latency (p50/p99 per call) and batch throughput (rows/s) for every
// fixture model, and the same work through libxgboost's C API for the XGBoost fixtures.
//
//   build/bench/orchard_bench [--benchmark_filter=higgs] [google benchmark flags]
//
// Rows are the fixture's test set; both engines get the same rows and the same thread count.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"
#include "engine/predictor.h"
#include "engine/thread_pool.h"
#include "formats/model_loader.h"

#ifdef ORCHARD_HAVE_LIBXGBOOST
#include <xgboost/c_api.h>
#endif

namespace {

struct Fixture {
  std::string name;       // e.g. xgboost/higgs_large
  std::string model_path;
  std::shared_ptr<const orchard::Predictor> predictor;
  std::vector<double> rows;  // model feature order
  std::vector<float> rows_f32;
  std::size_t count = 0;
};

std::string fixtures_dir() {
  if (const char* env = std::getenv("ORCHARD_FIXTURES"); env && *env) return env;
  return ORCHARD_DEFAULT_FIXTURES;
}

std::vector<Fixture> load_fixtures() {
  std::vector<Fixture> fixtures;
  const std::string models = fixtures_dir() + "/models/";
  std::ifstream manifest(models + "MANIFEST-engine.tsv");
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::string model = line.substr(0, line.find('\t'));
    if (model.size() > 4 && model.substr(model.size() - 4) == ".ubj") continue;  // same model as the .json
    std::string rest = line.substr(line.find('\t') + 1);
    const std::string input = rest.substr(0, rest.find('\t'));
    Fixture f;
    f.name = model.substr(0, model.rfind('.'));
    f.model_path = models + model;
    f.predictor = std::make_shared<const orchard::Predictor>(orchard::load_model_file(f.model_path), f.model_path);
    orchard::CsvReader reader(models + input);
    orchard::ColumnMapping mapping(f.predictor->model(), reader.header(), input);
    std::vector<std::string_view> cells;
    const std::size_t nf = static_cast<std::size_t>(f.predictor->num_features());
    while (reader.next_row(cells)) {
      f.rows.resize((f.count + 1) * nf);
      mapping.fill(cells, reader.line_number(), f.rows.data() + f.count * nf);
      ++f.count;
    }
    for (double v : f.rows) f.rows_f32.push_back(static_cast<float>(v));
    fixtures.push_back(std::move(f));
  }
  return fixtures;
}

// Times each call separately so that the median and tail are reported, not just the mean.
template <typename Call>
void time_single_rows(benchmark::State& state, std::size_t count, Call&& call) {
  std::vector<double> samples;
  samples.reserve(1 << 20);
  std::size_t r = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    call(r);
    const auto stop = std::chrono::steady_clock::now();
    if (samples.size() < samples.capacity()) samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    if (++r == count) r = 0;
  }
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    state.counters["p50_us"] = samples[samples.size() / 2];
    state.counters["p99_us"] = samples[samples.size() * 99 / 100];
  }
}

void orchard_single(benchmark::State& state, const Fixture* f) {
  const std::size_t nf = static_cast<std::size_t>(f->predictor->num_features());
  double out[64];
  time_single_rows(state, f->count, [&](std::size_t r) {
    f->predictor->predict_row(f->rows.data() + r * nf, out, false);
    benchmark::DoNotOptimize(out[0]);
  });
}

void orchard_batch(benchmark::State& state, const Fixture* f) {
  const int threads = static_cast<int>(state.range(0));
  orchard::ThreadPool pool(threads);
  std::vector<double> out(f->count * static_cast<std::size_t>(f->predictor->num_values(false)));
  for (auto _ : state) {
    f->predictor->predict_rows(f->rows.data(), f->count, out.data(), false, &pool);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f->count));
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * f->count), benchmark::Counter::kIsRate);
}

#ifdef ORCHARD_HAVE_LIBXGBOOST
struct XgbBooster {
  BoosterHandle handle = nullptr;
  explicit XgbBooster(const Fixture& f, int threads) {
    if (XGBoosterCreate(nullptr, 0, &handle) != 0 || XGBoosterLoadModel(handle, f.model_path.c_str()) != 0) {
      std::cerr << "libxgboost: " << XGBGetLastError() << "\n";
      std::exit(1);
    }
    XGBoosterSetParam(handle, "nthread", std::to_string(threads).c_str());
  }
  ~XgbBooster() { XGBoosterFree(handle); }

  // Inplace prediction from a dense float matrix, XGBoost's fastest C API path; gblinear does not
  // support it, so those go through a DMatrix as a user of the C API would do.
  const float* predict(const float* data, std::size_t rows, std::size_t cols) {
    if (use_dmatrix) return predict_dmatrix(data, rows, cols);
    char interface[256];
    std::snprintf(interface, sizeof interface,
                  R"({"data": [%llu, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                  static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(data)), rows, cols);
    static const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing": NaN})";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDense(handle, interface, config, nullptr, &shape, &dim, &result) != 0) {
      if (std::string(XGBGetLastError()).find("not supported") != std::string::npos) {
        use_dmatrix = true;
        return predict_dmatrix(data, rows, cols);
      }
      std::cerr << "libxgboost: " << XGBGetLastError() << "\n";
      std::exit(1);
    }
    return result;
  }

  const float* predict_dmatrix(const float* data, std::size_t rows, std::size_t cols) {
    DMatrixHandle matrix = nullptr;
    bst_ulong length = 0;
    const float* result = nullptr;
    if (XGDMatrixCreateFromMat(data, rows, cols, std::nanf(""), &matrix) != 0 ||
        XGBoosterPredict(handle, matrix, 0, 0, 0, &length, &result) != 0) {
      std::cerr << "libxgboost: " << XGBGetLastError() << "\n";
      std::exit(1);
    }
    XGDMatrixFree(matrix);
    return result;
  }

  bool use_dmatrix = false;
};

void xgboost_single(benchmark::State& state, const Fixture* f) {
  XgbBooster booster(*f, 1);
  const std::size_t nf = static_cast<std::size_t>(f->predictor->num_features());
  time_single_rows(state, f->count, [&](std::size_t r) {
    benchmark::DoNotOptimize(booster.predict(f->rows_f32.data() + r * nf, 1, nf));
  });
}

void xgboost_batch(benchmark::State& state, const Fixture* f) {
  const int threads = static_cast<int>(state.range(0));
  XgbBooster booster(*f, threads);
  const std::size_t nf = static_cast<std::size_t>(f->predictor->num_features());
  for (auto _ : state) benchmark::DoNotOptimize(booster.predict(f->rows_f32.data(), f->count, nf));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f->count));
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * f->count), benchmark::Counter::kIsRate);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (!std::filesystem::exists(fixtures_dir() + "/models/MANIFEST-engine.tsv")) {
    std::cerr << "fixtures not found at " << fixtures_dir() << " (set ORCHARD_FIXTURES)\n";
    return 1;
  }
  static const std::vector<Fixture> fixtures = load_fixtures();
  for (const Fixture& f : fixtures) {
    benchmark::RegisterBenchmark(("single/orchard/" + f.name).c_str(), orchard_single, &f)->MinTime(0.3);
#ifdef ORCHARD_HAVE_LIBXGBOOST
    if (f.name.rfind("xgboost/", 0) == 0) benchmark::RegisterBenchmark(("single/libxgboost/" + f.name).c_str(), xgboost_single, &f)->MinTime(0.3);
#endif
    benchmark::RegisterBenchmark(("batch/orchard/" + f.name).c_str(), orchard_batch, &f)->Arg(1)->Arg(2)->ArgName("threads")->MinTime(0.3)->UseRealTime();
#ifdef ORCHARD_HAVE_LIBXGBOOST
    if (f.name.rfind("xgboost/", 0) == 0) {
      benchmark::RegisterBenchmark(("batch/libxgboost/" + f.name).c_str(), xgboost_batch, &f)->Arg(1)->Arg(2)->ArgName("threads")->MinTime(0.3)->UseRealTime();
    }
#endif
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
