#include "tracing/prediction_id.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace orchard {
namespace {

// (milliseconds << 12 | sequence) packed in one atomic, so concurrent callers never repeat.
std::atomic<std::uint64_t> last_stamp{0};

std::uint64_t next_stamp() {
  const auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::uint64_t previous = last_stamp.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t candidate = std::max(now_ms << 12, previous + 1);
    if (last_stamp.compare_exchange_weak(previous, candidate, std::memory_order_relaxed)) return candidate;
  }
}

}  // namespace

std::string new_prediction_id() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32));
  const std::uint64_t stamp = next_stamp();
  const std::uint64_t ms = stamp >> 12;
  const std::uint64_t sequence = stamp & 0xfff;
  const std::uint64_t random = rng();
  unsigned char bytes[16];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  bytes[6] = static_cast<unsigned char>(0x70 | (sequence >> 8));  // version 7, then 12 bits of sequence
  bytes[7] = static_cast<unsigned char>(sequence & 0xff);
  bytes[8] = static_cast<unsigned char>(0x80 | (random & 0x3f));   // variant 10
  for (int i = 9; i < 16; ++i) bytes[i] = static_cast<unsigned char>(random >> (8 * (i - 8)));
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 15];
  }
  return out;
}

bool is_prediction_id(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace orchard
