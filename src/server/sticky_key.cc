#include "server/sticky_key.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace orchard {

std::string sticky_key_text(simdjson::dom::element key) {
  std::string_view text;
  if (key.get(text) == simdjson::SUCCESS) return std::string(text);
  std::int64_t integer = 0;
  if (key.get(integer) == simdjson::SUCCESS) return std::to_string(integer);
  std::uint64_t unsigned_integer = 0;
  if (key.get(unsigned_integer) == simdjson::SUCCESS) return std::to_string(unsigned_integer);
  double number = 0;
  if (key.get(number) == simdjson::SUCCESS && std::isfinite(number)) {
    // Doubles with no fraction in int64's range spell as that integer (9.2e18 fits; 1e19 does not).
    if (std::trunc(number) == number && std::abs(number) < 9.2e18) return std::to_string(static_cast<std::int64_t>(number));
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    if (ec == std::errc()) return std::string(buffer, end);
  }
  return "";
}

}  // namespace orchard
