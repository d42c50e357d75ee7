// Prediction ids: UUIDv7 (RFC 9562) — 48 bits of Unix milliseconds, then random bits — so ids are
// unique across processes and sort by time. Within one process, ids of the same millisecond still
// increase (a counter fills the 12 bits after the timestamp), so the prediction log can find a time
// range as a range of ids.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orchard {

struct PredictionId {
  std::array<std::uint8_t, 16> bytes{};

  // The canonical text form xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx (36 characters).
  std::string text() const;
  void append_text(std::string& out) const;
  // The 16 bytes as a string (how the prediction log stores ids: they sort like the ids).
  std::string_view raw() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
  // Unix milliseconds of the id's timestamp.
  std::int64_t unix_ms() const;

  // Parses the canonical form (any UUID version, lower or upper case); nullopt if it is not one.
  static std::optional<PredictionId> parse(std::string_view text);
  static std::optional<PredictionId> from_raw(std::string_view raw);
  // The smallest id of millisecond `unix_ms` (a lower bound for time-range searches).
  static PredictionId first_of(std::int64_t unix_ms);

  friend bool operator==(const PredictionId& a, const PredictionId& b) { return a.bytes == b.bytes; }
  friend bool operator<(const PredictionId& a, const PredictionId& b) { return a.bytes < b.bytes; }
  friend bool operator<=(const PredictionId& a, const PredictionId& b) { return a.bytes <= b.bytes; }
};

// Fills out[0..count) with new ids, increasing, all from this moment. Thread-safe, lock-free, no
// allocation (it is on the request path).
void new_prediction_ids(PredictionId* out, std::size_t count);
PredictionId new_prediction_id();

// Whether `text` has the canonical UUID form (any version).
bool is_prediction_id(std::string_view text);

// Unix milliseconds now; and as ISO-8601 UTC with milliseconds ("2026-11-26T21:43:17.123Z").
std::int64_t unix_ms_now();
std::string iso_time_ms(std::int64_t unix_ms);

}  // namespace orchard
