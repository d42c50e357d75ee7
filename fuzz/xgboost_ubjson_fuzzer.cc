// Fuzz target: XGBoost Universal Binary JSON (.ubj), loaded by XgboostUbjsonLoader, then validated, compiled and run on a few rows.
#include "formats/xgboost_json.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orchard::XgboostUbjsonLoader loader;
  return orchard::fuzz::fuzz_loader(loader, data, size);
}
