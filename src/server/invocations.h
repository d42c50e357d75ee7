// The MLflow invocations adapter's request decoding, apart from HTTP and routing
// (handle_invocations in service.h serves the protocol; the fuzz targets call this directly).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/model.h"
#include "server/inference.h"

namespace orchard {

// Turns the body of POST /endpoints/{name}/invocations into rows for `model`, exactly as the server
// does once routing has picked the version: text/csv with a header row, or a JSON object
// (dataframe_split, dataframe_records, instances or inputs). Throws Error(kInvalidArgument) for
// anything malformed or an unsupported content type, TooManyRows beyond `max_rows`. The result may
// hold zero rows (the server refuses those).
InferRequest decode_invocations(const Model& model, std::string_view content_type, const std::string& body, std::size_t max_rows);

}  // namespace orchard
