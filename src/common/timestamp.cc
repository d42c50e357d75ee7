#include "common/timestamp.h"

#include <charconv>
#include <ctime>

#include "common/error.h"

namespace orchard {

std::int64_t parse_timestamp(const std::string& text, std::string_view what) {
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size()) return ms;
  std::tm tm{};
  int millis = 0;
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest && *rest == '.') {
    // A fraction of a second: ".5" is 500 ms, ".05" 50 ms; digits past milliseconds are dropped.
    const char* digits = ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
    if (rest == digits) rest = nullptr;  // "17.Z": a dot without digits
    for (int place = 0, scale = 100; rest && place < 3; ++place, scale /= 10) {
      if (digits + place < rest) millis += (digits[place] - '0') * scale;
    }
  }
  if (!rest || (*rest != '\0' && std::string_view(rest) != "Z")) {
    throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a time", std::string(what),
                "ISO-8601 UTC (2026-11-26T21:43:17Z, or 21:43:17.250Z) or Unix milliseconds");
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

}  // namespace orchard
