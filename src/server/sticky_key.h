// The text a sticky route hashes (the `sticky` field of a route: "field:NAME" in the request's
// parameters), so that one user lands on one arm whatever JSON type the client gives the key.
#pragma once

#include <simdjson.h>

#include <string>

namespace orchard {

// A string as it is; an integer (int64, uint64, or a double with no fraction: 12345 and 12345.0
// are one key) as its decimal digits; other numbers as their shortest round-trip spelling; anything
// else (null, true, an object) as "" (no key: the request is routed at random).
std::string sticky_key_text(simdjson::dom::element key);

}  // namespace orchard
