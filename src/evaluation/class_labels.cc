#include "evaluation/class_labels.h"

#include "common/number_text.h"
#include "evaluation/evaluator.h"

namespace orchard {

ClassLabels::ClassLabels(const Model& model) {
  // Binary: two classes, also when the model has one output (the positive class's probability).
  // Multiclass: one per margin, also when the model outputs the winning index (multi:softmax).
  const std::size_t classes = task_for(model, false) == TaskKind::kBinary ? 2 : static_cast<std::size_t>(model.num_outputs);
  names_ = model.output_names;
  if (names_.size() != classes) {
    names_.clear();
    for (std::size_t k = 0; k < classes; ++k) names_.push_back("class_" + std::to_string(k));
  }
  bool all_valued = true;
  for (const std::string& name : names_) {
    const auto value = name.rfind("class_", 0) == 0 ? number_in(std::string_view(name).substr(6)) : std::nullopt;
    values_.push_back(value);
    all_valued = all_valued && value;
  }
  // Output names that are not all class values (LightGBM's class_<k> are, and agree with the index;
  // "setosa" is not): a number is then the class index.
  if (!all_valued) {
    for (std::size_t k = 0; k < values_.size(); ++k) values_[k] = static_cast<double>(k);
  }
}

std::optional<int> ClassLabels::index_of(double label) const {
  for (std::size_t k = 0; k < values_.size(); ++k) {
    if (values_[k] && *values_[k] == label) return static_cast<int>(k);
  }
  return std::nullopt;
}

std::optional<int> ClassLabels::index_of(std::string_view name) const {
  for (std::size_t k = 0; k < names_.size(); ++k) {
    if (names_[k] == name) return static_cast<int>(k);
  }
  if (const auto value = number_in(name)) return index_of(*value);
  return std::nullopt;
}

std::string ClassLabels::describe() const {
  std::string out;
  for (std::size_t k = 0; k < names_.size(); ++k) {
    if (!out.empty()) out += ", ";
    const bool named_by_value = names_[k].rfind("class_", 0) == 0 && values_[k];
    out += named_by_value ? names_[k].substr(6) : names_[k];
  }
  return out;
}

}  // namespace orchard
