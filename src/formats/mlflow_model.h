// Model paths: a model file, or an MLflow model directory (a directory holding an MLmodel file).
//
// read_model_path is the one place where Orchard turns a path given by a user into model bytes:
// load_model_file (predict, inspect, evaluate) and the registry's push both call it, so every command
// that takes a model file also takes an MLflow directory.
//
// MLflow directories: the MLmodel file (YAML) names the flavors. Orchard reads the onnx, xgboost and
// lightgbm flavors (in that order of preference), from the flavor's `data` (or `model_data`) path,
// which must stay inside the directory, and which a loader must recognize (pickles and XGBoost's
// deprecated binary format are refused with what to do instead). Feature names and types come from the `signature` inputs
// (column specs: double/float -> numeric, long/integer/boolean -> integer, string -> categorical);
// without a signature, names come from the saved input example (pandas "split" orient or records).
// The sklearn flavor is refused with a message pointing to `python3 -m orchard_export` (Orchard never
// unpickles); so is any directory without a supported flavor, listing the flavors it has.
#pragma once

#include <string>

#include "formats/mlflow_bundle.h"

namespace orchard {

// The bytes of a model file, or for an MLflow directory an MLflow bundle (mlflow_bundle.h) of the
// flavor's model file and the signature's schema. Throws Error(kNotFound) for a missing path,
// Error(kIo) for unreadable files, Error(kInvalidModel) for an MLmodel that cannot be used.
std::string read_model_path(const std::string& path);

// Reads an MLflow model directory into a bundle (read_model_path for directories).
MlflowBundle read_mlflow_directory(const std::string& directory);

}  // namespace orchard
