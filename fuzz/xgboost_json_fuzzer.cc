// Fuzz target: XGBoost JSON (Booster.save_model .json), loaded by XgboostJsonLoader, then validated, compiled and run on a few rows.
#include "formats/xgboost_json.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orchard::XgboostJsonLoader loader;
  return orchard::fuzz::fuzz_loader(loader, data, size);
}
