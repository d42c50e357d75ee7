// Points in time as people write them in a query or on a command line: ISO-8601 in UTC
// ("2026-11-26T21:43:17Z", with an optional fraction of a second) or Unix milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orchard {

// Unix milliseconds. Throws Error(kInvalidArgument) naming `what` for text that is neither form.
std::int64_t parse_timestamp(const std::string& text, std::string_view what);

}  // namespace orchard
