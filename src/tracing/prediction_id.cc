#include "tracing/prediction_id.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <random>

namespace orchard {
namespace {

// (milliseconds << 12 | sequence) packed in one atomic, so concurrent callers never repeat.
std::atomic<std::uint64_t> last_stamp{0};

// Reserves `count` consecutive stamps and returns the first.
std::uint64_t next_stamps(std::size_t count) {
  const auto now_ms = static_cast<std::uint64_t>(unix_ms_now());
  std::uint64_t previous = last_stamp.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t first = std::max(now_ms << 12, previous + 1);
    if (last_stamp.compare_exchange_weak(previous, first + count - 1, std::memory_order_relaxed)) return first;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_dash_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_time_ms(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return text;
}

void new_prediction_ids(PredictionId* out, std::size_t count) {
  if (count == 0) return;
  thread_local std::mt19937_64 rng(std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32));
  const std::uint64_t first = next_stamps(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t stamp = first + i;
    const std::uint64_t ms = stamp >> 12;
    const std::uint64_t sequence = stamp & 0xfff;
    const std::uint64_t random = rng();
    auto& b = out[i].bytes;
    for (int k = 0; k < 6; ++k) b[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(ms >> (40 - 8 * k));
    b[6] = static_cast<std::uint8_t>(0x70 | (sequence >> 8));  // version 7, then 12 bits of sequence
    b[7] = static_cast<std::uint8_t>(sequence & 0xff);
    b[8] = static_cast<std::uint8_t>(0x80 | (random & 0x3f));  // variant 10
    for (int k = 9; k < 16; ++k) b[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(random >> (8 * (k - 8)));
  }
}

PredictionId new_prediction_id() {
  PredictionId id;
  new_prediction_ids(&id, 1);
  return id;
}

void PredictionId::append_text(std::string& out) const {
  // Into a local buffer, then one append: this runs for every answered row (body and header).
  static constexpr char hex[] = "0123456789abcdef";
  char text[36];
  char* p = text;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = hex[bytes[i] >> 4];
    *p++ = hex[bytes[i] & 15];
  }
  out.append(text, sizeof text);
}

std::string PredictionId::text() const {
  std::string out;
  out.reserve(36);
  append_text(out);
  return out;
}

std::int64_t PredictionId::unix_ms() const {
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 6; ++i) ms = (ms << 8) | bytes[i];
  return ms;
}

std::optional<PredictionId> PredictionId::parse(std::string_view text) {
  if (!is_prediction_id(text)) return std::nullopt;
  PredictionId id;
  std::size_t k = 0;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    if (is_dash_position(i)) ++i;
    id.bytes[k++] = static_cast<std::uint8_t>(hex_value(text[i]) * 16 + hex_value(text[i + 1]));
  }
  return id;
}

std::optional<PredictionId> PredictionId::from_raw(std::string_view raw) {
  if (raw.size() != 16) return std::nullopt;
  PredictionId id;
  for (std::size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<std::uint8_t>(raw[i]);
  return id;
}

PredictionId PredictionId::first_of(std::int64_t unix_ms) {
  PredictionId id;
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0));
  for (int k = 0; k < 6; ++k) id.bytes[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(ms >> (40 - 8 * k));
  return id;
}

bool is_prediction_id(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i) ? text[i] != '-' : hex_value(text[i]) < 0) return false;
  }
  return true;
}

}  // namespace orchard
