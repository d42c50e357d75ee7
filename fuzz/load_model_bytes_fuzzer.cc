// Fuzz target: format detection by content and the whole loading path (load_model_bytes: every
// loader's recognizes(), the chosen loader, Model::validate), then compilation and prediction.
// Reaches the MLflow bundle loader too, which no other target does.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    orchard::fuzz::exercise(orchard::load_model_bytes(orchard::fuzz::as_view(data, size), "fuzz input"));
  } catch (const orchard::Error&) {
  }
  return 0;
}
