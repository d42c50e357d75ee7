// Fuzz target: LightGBM text models (model.txt), loaded by LightgbmTextLoader, then validated, compiled and run on a few rows.
#include "formats/lightgbm_text.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orchard::LightgbmTextLoader loader;
  return orchard::fuzz::fuzz_loader(loader, data, size);
}
