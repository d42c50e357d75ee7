// Prediction ids: UUIDv7 (RFC 9562) — 48 bits of Unix milliseconds, then random bits — so ids are
// unique across processes and sort by time. Within one process, ids of the same millisecond still
// increase (a counter fills the bits after the timestamp).
#pragma once

#include <string>

namespace orchard {

// A new id in the canonical form xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx. Thread-safe, lock-free.
std::string new_prediction_id();

// Whether `text` has the canonical UUID form (any version).
bool is_prediction_id(const std::string& text);

}  // namespace orchard
