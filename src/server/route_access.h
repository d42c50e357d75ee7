// What each HTTP route needs from an API key (see auth/role.h), and the endpoint it concerns (for
// predictor keys scoped to some endpoints).
#pragma once

#include <string>
#include <string_view>

#include "auth/role.h"

namespace orchard {

struct RouteAccess {
  Access access = Access::kRead;
  std::string endpoint;  // predict and metadata routes: the endpoint (or model) named in the path
};

// `method` and `path` as received (path without the query).
RouteAccess route_access(std::string_view method, std::string_view path);

}  // namespace orchard
