#include "engine/predictor.h"

#include <algorithm>
#include <vector>

#include "engine/output_transform.h"
#include "engine/thread_pool.h"

namespace orchard {
namespace {
// Rows per task handed to the pool: small enough to balance two threads that start at different
// times, large enough that handing out a task costs nothing in comparison.
constexpr std::size_t kRowsPerTask = 512;
// Rows run through the input steps at a time in the batch path: bounds the per-thread column buffer.
constexpr std::size_t kStepRows = 256;
constexpr std::size_t kStepValues = std::size_t{1} << 18;  // 2 MB of columns per thread at most (beyond one row)
}  // namespace

namespace {
Model validated(Model model, const std::string& where) {
  model.validate(where);
  return model;
}
}  // namespace

Predictor::Predictor(Model model, const std::string& where)
    : model_(validated(std::move(model), where)), steps_(model_), kernel_(compile_forest(model_)) {}

std::size_t Predictor::memory_bytes() const {
  // model_ and steps_ are members: each counts its own sizeof, so it is taken out of ours once.
  return sizeof(*this) - sizeof(model_) - sizeof(steps_) + model_.memory_bytes() + steps_.memory_bytes() +
         kernel_->memory_bytes();
}

std::vector<std::string> Predictor::value_names(bool raw) const {
  if (!raw) return model_.output_names;
  const int n = num_values(true);
  if (n == 1) return {"margin"};
  std::vector<std::string> names;
  for (int k = 0; k < n; ++k) names.push_back("margin_" + std::to_string(k));
  return names;
}

void Predictor::finish(double* margins, double* out, bool raw) const {
  const int outputs = model_.num_outputs;
  if (model_.average_divisor != 1.0 && (!raw || model_.raw_is_averaged)) {
    for (int k = 0; k < outputs; ++k) margins[k] /= model_.average_divisor;
  }
  if (raw) {
    if (out != margins) std::copy(margins, margins + outputs, out);
    return;
  }
  apply_output_transform(model_.transform, margins, outputs, out);
}

void Predictor::margins_with_steps(const double* rows, std::size_t n, double* margins, bool single) const {
  if (steps_.empty()) {
    if (single) kernel_->margins_row(rows, margins);
    else kernel_->margins_block(rows, n, margins);
    return;
  }
  const std::size_t nf = static_cast<std::size_t>(num_features());
  const std::size_t nc = static_cast<std::size_t>(steps_.num_columns());
  if (single && nc <= static_cast<std::size_t>(kStackFeatures)) {
    double columns[kStackFeatures];
    steps_.apply(rows, columns);
    kernel_->margins_row(columns, margins);
    return;
  }
  // Wide models (one row) and batches: a per-thread buffer of at most kStepRows rows and
  // kStepValues values (a one-hot step may produce millions of columns), grown once.
  const std::size_t chunk = std::clamp<std::size_t>(kStepValues / std::max<std::size_t>(nc, 1), 1, kStepRows);
  thread_local std::vector<double> columns;
  if (columns.size() < std::min(n, chunk) * nc) columns.resize(std::min(n, chunk) * nc);
  const std::size_t no = static_cast<std::size_t>(model_.num_outputs);
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t m = std::min(chunk, n - start);
    for (std::size_t r = 0; r < m; ++r) steps_.apply(rows + (start + r) * nf, columns.data() + r * nc);
    if (single) kernel_->margins_row(columns.data(), margins);
    else kernel_->margins_block(columns.data(), m, margins + start * no);
  }
}

void Predictor::predict_row(const double* row, double* out, bool raw) const {
  const int outputs = model_.num_outputs;
  if (outputs <= kStackOutputs) {
    double margins[kStackOutputs];
    margins_with_steps(row, 1, margins, true);
    finish(margins, out, raw);
  } else {
    thread_local std::vector<double> margins;
    margins.resize(static_cast<std::size_t>(outputs));
    margins_with_steps(row, 1, margins.data(), true);
    finish(margins.data(), out, raw);
  }
}

void Predictor::predict_rows(const double* rows, std::size_t n, double* out, bool raw, ThreadPool* pool) const {
  const std::size_t nf = static_cast<std::size_t>(num_features());
  const std::size_t outputs = static_cast<std::size_t>(model_.num_outputs);
  const std::size_t values = static_cast<std::size_t>(num_values(raw));
  auto run = [&](std::size_t begin, std::size_t end) {
    if (values == outputs) {
      margins_with_steps(rows + begin * nf, end - begin, out + begin * values, false);
      for (std::size_t r = begin; r < end; ++r) finish(out + r * values, out + r * values, raw);
      return;
    }
    std::vector<double> margins((end - begin) * outputs);
    margins_with_steps(rows + begin * nf, end - begin, margins.data(), false);
    for (std::size_t r = begin; r < end; ++r) finish(margins.data() + (r - begin) * outputs, out + r * values, raw);
  };
  const std::size_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  if (pool == nullptr || pool->size() == 1 || tasks <= 1) {
    run(0, n);
    return;
  }
  pool->parallel_for(tasks, [&](std::size_t t) {
    const std::size_t begin = t * kRowsPerTask;
    run(begin, std::min(n, begin + kRowsPerTask));
  });
}

}  // namespace orchard
