#include "registry/sql_database.h"

#include <cstring>

#include "common/error.h"

namespace orchard {

std::string decode_blob(const char* dialect, const std::string& value) {
  if (std::strcmp(dialect, "postgresql") != 0) return value;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (value.size() < 2 || value[0] != '\\' || value[1] != 'x' || value.size() % 2 != 0) {
    throw Error(ErrorKind::kIo, "a bytea value is not in PostgreSQL's hex form", "", "\\x followed by hex digits (bytea_output = hex)");
  }
  std::string bytes;
  bytes.reserve((value.size() - 2) / 2);
  for (std::size_t i = 2; i < value.size(); i += 2) {
    const int high = nibble(value[i]), low = nibble(value[i + 1]);
    if (high < 0 || low < 0) throw Error(ErrorKind::kIo, "a bytea value has a non-hex digit", "", "\\x followed by hex digits");
    bytes += static_cast<char>(high * 16 + low);
  }
  return bytes;
}

}  // namespace orchard
