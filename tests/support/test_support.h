// Shared helpers for Orchard's tests: where the fixtures are, reading expected-output CSVs, running
// the orchard binary.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace orchard::testing {

// The name of an ErrorKind, for readable failure messages.
const char* kind_name(ErrorKind kind);

// Expects `statement` to throw orchard::Error of `expected_kind`.
#define EXPECT_ERROR_KIND(statement, expected_kind)                                                        \
  do {                                                                                                     \
    try {                                                                                                  \
      statement;                                                                                           \
      ADD_FAILURE() << #statement " did not throw";                                                        \
    } catch (const ::orchard::Error& error_) {                                                             \
      EXPECT_STREQ(::orchard::testing::kind_name(error_.kind()), ::orchard::testing::kind_name(expected_kind)) \
          << error_.what();                                                                                \
    }                                                                                                      \
  } while (0)

// The fixtures directory (ORCHARD_FIXTURES, else ../shared/fixtures beside the repository), or
// nullopt if it does not exist (a user's machine); tests that need it skip with a message.
std::optional<std::string> fixtures_dir();

std::string source_dir();     // the repository root
std::string orchard_binary();  // the built `orchard`

// A headerless numeric CSV (the fixtures' expected outputs): one vector per line.
std::vector<std::vector<double>> read_numeric_csv(const std::string& path, bool skip_header = false);

// |actual - expected| <= 1e-6 + 1e-6 * |expected| (the fixtures' README).
bool within_tolerance(double actual, double expected);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the orchard binary with `arguments` (a shell-quoted string), capturing output.
CommandResult run_orchard(const std::string& arguments);
// `text` single-quoted for the shell (for run_orchard's arguments).
std::string shell_quote(const std::string& text);

// The lines of `text`, without their newlines.
std::vector<std::string> lines_of(const std::string& text);
// The cells of a CSV line without quoting (fixtures, test output), split on every comma.
std::vector<std::string> split_commas(const std::string& line);

// $ORCHARD_TEST_POSTGRES (a PostgreSQL server for the tests; scripts/test.sh starts one), or empty.
std::string postgres_url();
// A new, empty database on that server, named after `tag` and dropped when the test program exits;
// returns its URL. REQUIRES: postgres_url() is not empty.
std::string fresh_postgres_database(const std::string& tag);

// A scratch directory unique to the test, removed at exit.
std::string temp_dir();
std::string write_file(const std::string& name, const std::string& contents);
std::string read_text(const std::string& path);
// The bytes of a fixture model file, `relative` to the fixtures' models/ directory.
// REQUIRES: fixtures_dir() is not nullopt.
std::string read_fixture_model(const std::string& relative);

}  // namespace orchard::testing
