// Names in the registry, and references to versions.
//
// Model and alias names: 1 to 128 characters from letters, digits, '-', '_' and '.', starting with a
// letter or digit, so that no name can become a path ("..", "/") or an option ("-x").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace orchard {

// Throws Error(kInvalidArgument) naming `what` ("model name", "alias") and the rule.
void check_name(const std::string& name, const char* what);
// Tag keys follow the same rule; tag values are free text up to 1024 bytes.
void check_tag(const std::string& key, const std::string& value);

// "NAME", "NAME:VERSION" or "NAME@ALIAS".
struct ModelRef {
  std::string model;
  std::optional<std::int64_t> version;
  std::optional<std::string> alias;
};
ModelRef parse_model_ref(const std::string& text);

}  // namespace orchard
