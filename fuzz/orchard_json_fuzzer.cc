// Fuzz target: Orchard's own JSON model format (docs/model-format.md), loaded by OrchardJsonLoader, then validated, compiled and run on a few rows.
#include "formats/orchard_json.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orchard::OrchardJsonLoader loader;
  return orchard::fuzz::fuzz_loader(loader, data, size);
}
