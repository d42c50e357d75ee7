// Orchard's own model format: a versioned JSON document that spells out the IR (engine/model.h)
// field by field. It is what python/orchard_export writes for scikit-learn models, and how any tool
// can hand Orchard a model without Python pickles. docs/model-format.md documents every field.
//
// Recognized by content: a JSON object whose first 4 KB contain the string "orchard-model" (the value
// of its "format" field). Accepts version 1. Refuses, with Error(kInvalidModel) naming the file, the
// JSON path (e.g. /trees/3/left/7) and what was expected: other versions, unknown field values, wrong
// types, arrays of mismatched lengths, documents nested deeper than 64 levels. Model::validate then
// checks every index (load_model_bytes).
#pragma once

#include "formats/model_loader.h"

namespace orchard {

class OrchardJsonLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "orchard-json"; }
  bool recognizes(std::string_view bytes) const override;
  Model load(std::string_view bytes, const std::string& where) const override;
};

// The format version this Orchard reads and writes.
inline constexpr int kOrchardModelVersion = 1;

}  // namespace orchard
