#include "registry/names.h"

#include <charconv>

#include "common/error.h"

namespace orchard {
namespace {
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
}  // namespace

void check_name(const std::string& name, const char* what) {
  const std::string rule = "1 to 128 letters, digits, '-', '_' or '.', starting with a letter or digit";
  if (name.empty() || name.size() > 128 || !alnum(name.front())) {
    throw Error(ErrorKind::kInvalidArgument, std::string(what) + " \"" + name + "\" is not valid", "", rule);
  }
  for (char c : name) {
    if (!name_char(c)) {
      throw Error(ErrorKind::kInvalidArgument, std::string(what) + " \"" + name + "\" contains '" + std::string(1, c) + "'", "", rule);
    }
  }
}

void check_tag(const std::string& key, const std::string& value) {
  check_name(key, "tag key");
  if (value.size() > 1024) throw Error(ErrorKind::kInvalidArgument, "tag \"" + key + "\" has a value longer than 1024 bytes");
}

ModelRef parse_model_ref(const std::string& text) {
  ModelRef ref;
  const std::size_t at = text.find('@');
  const std::size_t colon = text.find(':');
  if (at != std::string::npos && colon != std::string::npos) {
    throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" names both a version and an alias", "", "NAME, NAME:VERSION or NAME@ALIAS");
  }
  if (at != std::string::npos) {
    ref.model = text.substr(0, at);
    ref.alias = text.substr(at + 1);
    check_name(*ref.alias, "alias");
  } else if (colon != std::string::npos) {
    ref.model = text.substr(0, colon);
    const std::string number = text.substr(colon + 1);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec != std::errc() || end != number.data() + number.size() || v < 1) {
      throw Error(ErrorKind::kInvalidArgument, "version \"" + number + "\" is not a version number", "", "a positive integer, e.g. churn:3");
    }
    ref.version = v;
  } else {
    ref.model = text;
  }
  check_name(ref.model, "model name");
  return ref;
}

}  // namespace orchard
