#include "common/error.h"

namespace orchard {
namespace {

std::string compose(const std::string& what, const std::string& where, const std::string& expected) {
  std::string message;
  message.reserve(where.size() + what.size() + expected.size() + 16);
  if (!where.empty()) message.append(where).append(": ");
  message.append(what);
  if (!expected.empty()) message.append(" (expected ").append(expected).append(")");
  return message;
}

}  // namespace

Error::Error(ErrorKind kind, std::string what, std::string where, std::string expected)
    : std::runtime_error(compose(what, where, expected)),
      kind_(kind),
      problem_(std::move(what)),
      location_(std::move(where)),
      expected_(std::move(expected)) {}

void throw_invalid_model(const std::string& where, const std::string& what, const std::string& expected) {
  throw Error(ErrorKind::kInvalidModel, what, where, expected);
}

}  // namespace orchard
