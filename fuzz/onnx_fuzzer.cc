// Fuzz target: ONNX-ML models (protobuf ModelProto), loaded by OnnxLoader, then validated, compiled and run on a few rows.
#include "formats/onnx_model.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orchard::OnnxLoader loader;
  return orchard::fuzz::fuzz_loader(loader, data, size);
}
