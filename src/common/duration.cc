#include "common/duration.h"

#include <charconv>
#include <string>

#include "common/error.h"

namespace orchard {

std::chrono::seconds parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return Error(ErrorKind::kInvalidArgument, "\"" + std::string(text) + "\" is not a duration", std::string(what),
                 "a positive number with a unit: 90s, 15m, 12h, 30d or 2w");
  };
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value <= 0) throw bad();
  const std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  long long scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else if (unit == "d") scale = 86400;
  else if (unit == "w") scale = 7 * 86400;
  else throw bad();
  if (value > (1LL << 40) / scale) throw bad();
  return std::chrono::seconds(value * scale);
}

}  // namespace orchard
