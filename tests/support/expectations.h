// Assertions shared by the tests of model loading and validation: message contents, and refusals
// (an action that must throw orchard::Error of kind kInvalidModel).
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <string>

#include "common/error.h"

namespace orchard::testing {

// `text` contains `part`; a failure prints both.
inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// Runs `action`, which must throw orchard::Error of kind kInvalidModel, and returns that error. Adds a
// failure and returns nullopt when it throws something else, or nothing (the failure then says
// `if_no_error`, what happened instead: "loaded", "validated").
template <typename F>
std::optional<Error> invalid_model_error(F&& action, const char* if_no_error = "loaded without an error") {
  try {
    action();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something other than orchard::Error: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << if_no_error;
  return std::nullopt;
}

// The message of the Error(kInvalidModel) that `action` must throw (invalid_model_error); empty after
// a failure.
template <typename F>
std::string refusal(F&& action, const char* if_no_error = "loaded without an error") {
  const std::optional<Error> error = invalid_model_error(std::forward<F>(action), if_no_error);
  return error ? error->what() : std::string();
}

}  // namespace orchard::testing
