// The engine's public face: a loaded model, compiled, ready to predict.
//
// A Predictor is immutable and thread-safe; the server will share it as shared_ptr<const Predictor>
// (hot swap replaces the pointer). predict_row is the per-request path: no allocation, no lock.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/compiled_forest.h"
#include "engine/input_steps.h"
#include "engine/model.h"

namespace orchard {

class ThreadPool;

class Predictor {
 public:
  // Validates and compiles. Throws Error(kInvalidModel).
  explicit Predictor(Model model, const std::string& where = "model");

  const Model& model() const { return model_; }
  int num_features() const { return model_.num_features(); }
  // Values per row: margins with raw = true, predictions otherwise.
  int num_values(bool raw) const { return raw ? model_.num_outputs : model_.num_predictions(); }
  std::string describe() const { return kernel_->describe(); }
  // Bytes this predictor holds in memory: the IR it keeps (model()), the compiled input steps and the
  // compiled kernel, each counted by what its arrays allocated (capacity, not size). For the
  // per-version memory gauge at /metrics, where the model file's size is no guide: it depends on the
  // encoding (higgs_large from XGBoost: 7.7 MB as JSON, 4.5 MB as UBJSON, 7.3 MB here either way).
  // Within 2% of what malloc reports for the large fixtures; allocator overhead is not counted.
  std::size_t memory_bytes() const;
  // Names of the num_values(raw) columns: the model's output names, or margin / margin_K when raw.
  std::vector<std::string> value_names(bool raw) const;

  // row: num_features() values in the model's feature order (NaN = missing); out: num_values(raw).
  // The model's input steps, if any, run first (on a stack buffer, or a per-thread one for models
  // wider than kStackFeatures columns).
  void predict_row(const double* row, double* out, bool raw) const;

  // n rows, row-major; out: n * num_values(raw), row-major. Spreads large batches over `pool`.
  void predict_rows(const double* rows, std::size_t n, double* out, bool raw, ThreadPool* pool = nullptr) const;

 private:
  // Averages (where the model does) and transforms one row's sums; `out` may alias `margins`.
  void finish(double* margins, double* out, bool raw) const;

  // Runs the input steps (if any) on `n` rows and the kernel on the resulting columns; `single`: the
  // one-row path (n == 1, margins_row), else the block path.
  void margins_with_steps(const double* rows, std::size_t n, double* margins, bool single) const;

  Model model_;
  InputStepProgram steps_;
  std::unique_ptr<const ForestKernel> kernel_;
};

}  // namespace orchard
