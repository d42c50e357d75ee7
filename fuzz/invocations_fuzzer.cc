// Fuzz target: the MLflow invocations request decoder (decode_invocations in server/invocations.h):
// JSON bodies (dataframe_split, dataframe_records, instances, inputs) and text/csv, read into rows
// for the demo churn model (named and categorical features).
//
// Input: the request body; one starting with "csv\n" is sent as text/csv (without that line).
#include "fuzz_support.h"
#include "server/invocations.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace orchard;
  std::string_view body = fuzz::as_view(data, size);
  std::string_view content_type = "application/json";
  if (body.substr(0, 4) == "csv\n") {
    content_type = "text/csv";
    body.remove_prefix(4);
  }
  const Model& model = fuzz::churn_model();
  try {
    const InferRequest request = decode_invocations(model, content_type, std::string(body), 1000);
    if (request.rows.size() != request.count * static_cast<std::size_t>(model.num_features())) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
