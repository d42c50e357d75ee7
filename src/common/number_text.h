// A number written as text, all of it: "3", "-0.5", "1e3" (no surrounding spaces, no trailing text).
#pragma once

#include <optional>
#include <string_view>

namespace orchard {

// The value of `text` if the whole of it is a number (std::from_chars: exact, locale-free); else
// nullopt.
std::optional<double> number_in(std::string_view text);

}  // namespace orchard
