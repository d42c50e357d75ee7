// Durations as people write them on a command line or in a query: "90s", "15m", "12h", "30d", "2w"
// (a bare number is seconds).
#pragma once

#include <chrono>
#include <string_view>

namespace orchard {

// Throws Error(kInvalidArgument) naming `what` for text that is not a positive duration.
std::chrono::seconds parse_duration(std::string_view text, std::string_view what);

}  // namespace orchard
