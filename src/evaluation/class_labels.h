// How a label names one of a classifier's classes. Training data labels a class by its value
// (scikit-learn's classes_, e.g. 1, 2, 3, or "setosa"), while a model's outputs come in class order
// (0 .. k-1). ONNX models carry the class values and name their outputs after them (class_<value>,
// or the class's own name): a label is found among those names. XGBoost and LightGBM only know
// classes 0 .. k-1, so there a label is the class index itself. The metrics (metrics.h) and live
// quality read labels as class indexes: `orchard evaluate` and feedback both map them here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"

namespace orchard {

class ClassLabels {
 public:
  // The classes of `model` (binary: two, whatever its number of outputs; multiclass: one per output).
  explicit ClassLabels(const Model& model);

  // The index of the class whose value is `label` (class_<label> among the outputs, or the index
  // itself for models without class values); nullopt when no class has that value.
  std::optional<int> index_of(double label) const;
  // The index of the class named `name` exactly (an output name, e.g. "setosa" or "class_2"), else
  // of the class whose value `name` spells as a number; nullopt when it names no class.
  std::optional<int> index_of(std::string_view name) const;

  int count() const { return static_cast<int>(names_.size()); }
  // The labels that name the classes, for messages: "0, 1, 2", or "setosa, versicolor, virginica".
  std::string describe() const;

 private:
  std::vector<std::string> names_;            // per class: the output's name
  std::vector<std::optional<double>> values_;  // per class: its numeric value, when it has one
};

}  // namespace orchard
