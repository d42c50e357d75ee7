// The Open Inference Protocol (KServe v2) adapter's request decoding, apart from HTTP and routing
// (handle_kserve_v2 in service.h serves the protocol; the fuzz targets call this directly).
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/model.h"
#include "server/inference.h"

namespace orchard {

// Turns the body of POST /v2/models/{name}/infer into rows for `model`, exactly as the server does
// once routing has picked the version: `content_type` and `header_length` are the Content-Type and
// Inference-Header-Content-Length headers (empty when absent). Throws Error(kInvalidArgument) for
// anything malformed (bad JSON, shapes, datatypes, unknown or missing features, a content type that
// is neither JSON nor binary tensors) and TooManyRows beyond `max_rows`; never reads outside `body`.
InferRequest decode_v2_infer(const Model& model, std::string_view body, std::string_view content_type,
                             std::string_view header_length, std::size_t max_rows);

}  // namespace orchard
