// A streaming reader for comma-separated files with a header row.
//
// Written by hand rather than taken from a library: Debian 12 packages no maintained C++ CSV parser,
// and Orchard needs only RFC 4180 fields (quotes, doubled quotes) read line by line with bounded
// memory. Quoted fields spanning lines are refused with a clear error.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace orchard {

class CsvReader {
 public:
  // Opens `path` ("-" for standard input). Throws Error(kNotFound / kIo), or Error(kInvalidArgument)
  // if the file is empty or its header is malformed.
  explicit CsvReader(const std::string& path);
  // Reads from a stream the caller keeps alive (tests).
  CsvReader(std::istream& in, std::string name);

  const std::vector<std::string>& header() const { return header_; }
  const std::string& name() const { return name_; }

  // Reads the next data row into `cells` (views valid until the next call). Returns false at end of
  // input. Blank lines are skipped. Throws Error(kInvalidArgument) naming the line for a malformed row.
  bool next_row(std::vector<std::string_view>& cells);

  // 1-based line number of the row last returned (the header is line 1).
  std::uint64_t line_number() const { return line_number_; }
  // Bytes consumed so far and total size (0 if unknown, e.g. a pipe), for progress.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  void read_header();
  bool read_line();
  void split(std::vector<std::string_view>& cells);

  std::unique_ptr<std::ifstream> file_;
  std::istream* in_ = nullptr;
  std::string name_;
  std::string line_;
  std::string unquoted_;  // storage for fields that needed unescaping
  std::vector<std::string> header_;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace orchard
