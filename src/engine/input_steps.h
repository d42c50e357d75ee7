// The compiled form of a model's input steps (InputStep, model.h): the caller's features in, the
// columns the trees and the linear part read out.
//
// Category lookups (one-hot, ordinal) are sorted once at construction and binary-searched per row,
// so a step over thousands of categories costs a few comparisons. apply() allocates nothing and takes
// no lock; an InputStepProgram is immutable and safe to share between threads. Its results are
// identical to reference_input_steps (reference_evaluator.h), which is its test oracle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/model.h"

namespace orchard {

class InputStepProgram {
 public:
  // `model` must be validated. A model without input steps gives an empty program.
  explicit InputStepProgram(const Model& model);

  bool empty() const { return steps_.empty(); }
  std::int32_t num_columns() const { return num_columns_; }
  // Bytes this program occupies: itself, its steps and its sorted category lookups.
  std::size_t memory_bytes() const { return sizeof(*this) + vector_bytes(steps_) + vector_bytes(lookup_); }

  // features: the model's num_features() values (NaN = missing); columns: num_columns() values.
  void apply(const double* features, double* columns) const;

 private:
  struct Step {
    InputStepKind kind;
    std::int32_t source;
    std::int32_t width;
    double fill;
    double offset, scale, shift;
    double unknown;
    std::int32_t nan_code;         // the position of the NaN entry among the values, or -1
    std::uint32_t lookup_begin;    // into lookup_: the finite values, sorted, with their positions
    std::uint32_t lookup_count;
  };
  // The position of x among `step`'s values, or -1.
  std::int32_t position(const Step& step, double x) const;

  std::vector<Step> steps_;
  std::vector<std::pair<double, std::int32_t>> lookup_;
  std::int32_t num_columns_ = 0;
};

}  // namespace orchard
