// Writing JSON text by hand on the paths where building a DOM would cost more than the work itself
// (prediction responses, prediction-log records).
#pragma once

#include <string>
#include <string_view>

namespace orchard {

// Escapes `text` for a JSON string literal (without the quotes).
void append_json_string(std::string& out, std::string_view text);

// Shortest round-trip text for a double; "null" for NaN and infinities (JSON has neither).
void append_json_number(std::string& out, double value);

}  // namespace orchard
