// Fuzz target: the Open Inference Protocol v2 request decoder (decode_v2_infer in server/kserve_v2.h)
// reading rows for the demo churn model (named and categorical features) and the iris model.
//
// Input: the request body, read for the churn model; a first line "iris" picks the iris model instead,
// and a first line "#N" (N decimal) is taken as Inference-Header-Content-Length (Triton's binary
// tensors). Both lines are removed from the body.
#include <charconv>

#include "fuzz_support.h"
#include "server/kserve_v2.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace orchard;
  std::string_view body = fuzz::as_view(data, size);
  const bool iris = body.substr(0, 5) == "iris\n";
  if (iris) body.remove_prefix(5);
  std::string header_length;
  if (!body.empty() && body[0] == '#') {
    const std::size_t newline = body.find('\n');
    if (newline == std::string_view::npos) return 0;
    header_length = std::string(body.substr(1, newline - 1));
    body.remove_prefix(newline + 1);
  }
  const Model& model = iris ? fuzz::iris_model() : fuzz::churn_model();
  try {
    const InferRequest request = decode_v2_infer(model, body, "application/json", header_length, 1000);
    // What the server relies on: exactly count rows of num_features values.
    if (request.rows.size() != request.count * static_cast<std::size_t>(model.num_features())) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
