// Model formats: one ModelLoader per file format, all producing the engine's IR (engine/model.h).
//
// The format of a file is detected from its content, never from its name. Every loader refuses a
// file it cannot read with Error(kInvalidModel) naming the file, the place in it and what was
// expected; it never crashes, hangs or allocates far beyond the file's size. A loader checks what its
// format promises; load_model_bytes then runs Model::validate (indices, cycles, ranges) on the result.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"

namespace orchard {

class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // A short stable identifier: "xgboost-json", "xgboost-ubjson", "lightgbm-text", ...
  virtual std::string_view format_name() const = 0;
  // Cheap check of the leading bytes: does this look like the loader's format?
  virtual bool recognizes(std::string_view bytes) const = 0;
  // Parses the whole file. `where` names it in errors (usually the path).
  virtual Model load(std::string_view bytes, const std::string& where) const = 0;
};

// Every loader Orchard knows, in detection order.
const std::vector<const ModelLoader*>& model_loaders();

// Detects the format and loads. Throws Error(kInvalidModel) if no loader recognizes the bytes.
Model load_model_bytes(std::string_view bytes, const std::string& where);

// Reads and loads a model file or an MLflow model directory (read_model_path in mlflow_model.h;
// Error(kNotFound) / Error(kIo) for file problems).
Model load_model_file(const std::string& path);

}  // namespace orchard
