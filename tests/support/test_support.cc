#include "support/test_support.h"

#include <unistd.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "registry/postgres_database.h"
#include "tabular/column_mapping.h"

namespace orchard::testing {

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "kInvalidArgument";
    case ErrorKind::kInvalidModel: return "kInvalidModel";
    case ErrorKind::kNotFound: return "kNotFound";
    case ErrorKind::kIo: return "kIo";
    case ErrorKind::kInternal: return "kInternal";
  }
  return "?";
}

std::optional<std::string> fixtures_dir() {
  std::string dir = ORCHARD_DEFAULT_FIXTURES;
  if (const char* env = std::getenv("ORCHARD_FIXTURES"); env && *env) dir = env;
  if (!std::filesystem::exists(dir + "/models/MANIFEST-engine.tsv")) return std::nullopt;
  return dir;
}

std::string source_dir() { return ORCHARD_SOURCE_DIR; }

std::string postgres_url() {
  const char* url = std::getenv("ORCHARD_TEST_POSTGRES");
  return url ? url : "";
}

namespace {

std::vector<std::string>& created_databases() {
  static std::vector<std::string> names;
  return names;
}

class DropPostgresDatabases : public ::testing::Environment {
 public:
  void TearDown() override {
    if (postgres_url().empty() || created_databases().empty()) return;
    PostgresDatabase admin(postgres_url());
    for (const std::string& database : created_databases()) admin.exec_script("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }
};
[[maybe_unused]] ::testing::Environment* const kDropPostgres = ::testing::AddGlobalTestEnvironment(new DropPostgresDatabases);

}  // namespace

std::string fresh_postgres_database(const std::string& tag) {
  // Named after the tag and this process, so parallel test programs never share one.
  const std::string database = "orchard_t_" + sha256_hex(tag + "/" + std::to_string(getpid())).substr(0, 16);
  {
    PostgresDatabase admin(postgres_url());
    admin.exec_script("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    admin.exec_script("CREATE DATABASE " + database);
  }
  created_databases().push_back(database);
  const std::string url = postgres_url();
  const std::size_t slash = url.find('/', url.find("://") + 3);
  const std::size_t query = url.find('?');
  return url.substr(0, slash == std::string::npos ? url.size() : slash) + "/" + database +
         (query == std::string::npos ? "" : url.substr(query));
}
std::string orchard_binary() { return ORCHARD_BINARY; }

std::vector<std::vector<double>> read_numeric_csv(const std::string& path, bool skip_header) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::vector<double>> rows;
  std::string line;
  if (skip_header) std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<double> row;
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      const std::string cell = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      double value = 0;
      if (!orchard::parse_cell(cell, value)) throw std::runtime_error("bad number '" + cell + "' in " + path);
      row.push_back(value);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool within_tolerance(double actual, double expected) {
  return std::abs(actual - expected) <= 1e-6 + 1e-6 * std::abs(expected);
}

namespace {
std::string& scratch_dir() {
  static std::string dir;
  return dir;
}
}  // namespace

std::string temp_dir() {
  std::string& dir = scratch_dir();
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "orchard-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
  }
  return dir;
}

std::string write_file(const std::string& name, const std::string& contents) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << contents;
  return path;
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace

std::string read_text(const std::string& path) { return slurp(path); }

std::string read_fixture_model(const std::string& relative) { return slurp(*fixtures_dir() + "/models/" + relative); }

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return cells;
    start = comma + 1;
  }
}

CommandResult run_orchard(const std::string& arguments) {
  static int counter = 0;
  const std::string base = temp_dir() + "/cmd" + std::to_string(counter++);
  const std::string command = "'" + orchard_binary() + "' " + arguments + " >'" + base + ".out' 2>'" + base + ".err'";
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp(base + ".out");
  result.err = slurp(base + ".err");
  return result;
}

}  // namespace orchard::testing
