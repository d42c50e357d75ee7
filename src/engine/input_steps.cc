#include "engine/input_steps.h"

#include <algorithm>
#include <cmath>

namespace orchard {

InputStepProgram::InputStepProgram(const Model& model) : num_columns_(model.num_columns()) {
  for (const InputStep& step : model.input_steps) {
    Step compiled{step.kind, step.source, step.width(), step.fill, step.offset, step.scale, step.shift, step.unknown,
                  -1, static_cast<std::uint32_t>(lookup_.size()), 0};
    for (std::size_t k = 0; k < step.values.size(); ++k) {
      if (std::isnan(step.values[k])) {
        compiled.nan_code = static_cast<std::int32_t>(k);
      } else {
        lookup_.emplace_back(step.values[k], static_cast<std::int32_t>(k));
      }
    }
    compiled.lookup_count = static_cast<std::uint32_t>(lookup_.size()) - compiled.lookup_begin;
    std::sort(lookup_.begin() + compiled.lookup_begin, lookup_.end());
    steps_.push_back(compiled);
  }
}

std::int32_t InputStepProgram::position(const Step& step, double x) const {
  if (std::isnan(x)) return step.nan_code;
  const auto begin = lookup_.begin() + step.lookup_begin;
  const auto end = begin + step.lookup_count;
  const auto it = std::lower_bound(begin, end, x, [](const std::pair<double, std::int32_t>& entry, double v) { return entry.first < v; });
  return it != end && it->first == x ? it->second : -1;
}

void InputStepProgram::apply(const double* features, double* columns) const {
  double* out = columns;
  for (const Step& step : steps_) {
    double x = features[step.source];
    if (std::isnan(x) && !std::isnan(step.fill)) x = step.fill;
    switch (step.kind) {
      case InputStepKind::kCopy:
        *out = x;
        break;
      case InputStepKind::kAffine:
        *out = (x - step.offset) * step.scale + step.shift;
        break;
      case InputStepKind::kStandardize:
        *out = (x - step.offset) / step.scale;
        break;
      case InputStepKind::kOneHot: {
        std::fill(out, out + step.width, 0.0);
        const std::int32_t k = position(step, x);
        if (k >= 0) out[k] = 1.0;
        break;
      }
      case InputStepKind::kOrdinal: {
        const std::int32_t k = position(step, x);
        *out = k < 0 ? step.unknown : static_cast<double>(k);
        break;
      }
    }
    out += step.width;
  }
}

}  // namespace orchard
