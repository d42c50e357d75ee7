// Orchard's error type: every failure says what went wrong, where, and what was expected.
//
// Areas throw orchard::Error internally; the public entry points of an area (load_model, the CLI
// commands) catch it and turn it into a message and an exit code or an HTTP status. An Error never
// crosses a thread boundary: the thread pool captures it and rethrows on the calling thread.
#pragma once

#include <stdexcept>
#include <string>

namespace orchard {

enum class ErrorKind {
  kInvalidArgument,  // the caller's request or input data is wrong (CLI usage, CSV cell, ...)
  kInvalidModel,     // a model file is malformed, truncated, inconsistent or unsupported
  kNotFound,         // a file, model or feature that was named does not exist
  kIo,               // the operating system refused a read or write
  kInternal,         // a bug in Orchard
};

class Error : public std::runtime_error {
 public:
  // what: the problem; where: the file and the place in it (may be empty); expected: what would be valid.
  Error(ErrorKind kind, std::string what, std::string where = {}, std::string expected = {});

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& problem() const noexcept { return problem_; }
  const std::string& location() const noexcept { return location_; }
  const std::string& expected() const noexcept { return expected_; }

 private:
  ErrorKind kind_;
  std::string problem_;
  std::string location_;
  std::string expected_;
};

// Shorthand for the most common case: a model file that cannot be read.
[[noreturn]] void throw_invalid_model(const std::string& where, const std::string& what,
                                      const std::string& expected = {});

}  // namespace orchard
