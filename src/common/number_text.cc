#include "common/number_text.h"

#include <charconv>

namespace orchard {

std::optional<double> number_in(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace orchard
