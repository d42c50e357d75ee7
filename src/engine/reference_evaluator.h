// The reference evaluator: a direct, readable walk over the IR, one row at a time.
//
// It is the oracle the compiled engine is tested against (and the fallback for models whose
// features mix missing-value rules in a way the compiled layout does not normalize). Slow by design:
// every rule is spelled out per node, exactly as the training libraries apply it.
#pragma once

#include "engine/model.h"

namespace orchard {

// row: model.num_features() values in the model's feature order, NaN for missing.
// margins: model.num_outputs values: the sums of base margin, linear part and trees, before
// averaging (Model::average_divisor) and the output transform. The model must be validated.
// Runs the model's input steps first (reference_input_steps).
void reference_margins(const Model& model, const double* row, double* margins);

// The same on columns: `columns` holds model.num_columns() values, the input steps' output.
void reference_column_margins(const Model& model, const double* columns, double* margins);

// The input steps spelled out (InputStep, model.h), linear scans and all: features -> columns
// (model.num_columns() values). The oracle for the compiled InputStepProgram.
void reference_input_steps(const Model& model, const double* features, double* columns);

// True if the categorical split at `node` sends value x (already in the model's precision) left.
bool categorical_goes_left(const Tree& tree, const TreeNode& node, double x);

}  // namespace orchard
