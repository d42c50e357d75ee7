// Turning margins into predictions, in the precision the training library uses.
#pragma once

#include "engine/model.h"

namespace orchard {

// margins: num_outputs values; out: model.num_predictions() values (may alias margins unless the
// transform changes the number of values: kArgMax, kSigmoidPair).
// Allocates nothing.
void apply_output_transform(const OutputTransform& transform, const double* margins, int num_outputs, double* out);

}  // namespace orchard
