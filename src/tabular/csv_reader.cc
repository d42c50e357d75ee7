#include "tabular/csv_reader.h"

#include <filesystem>
#include <iostream>

#include "common/error.h"

namespace orchard {

CsvReader::CsvReader(const std::string& path) : name_(path) {
  if (path == "-") {
    in_ = &std::cin;
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(ErrorKind::kNotFound, "file does not exist", path, "a CSV file with a header row");
    file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*file_) throw Error(ErrorKind::kIo, "cannot open file", path);
    total_bytes_ = static_cast<std::uint64_t>(std::filesystem::file_size(path, ec));
    in_ = file_.get();
  }
  read_header();
}

CsvReader::CsvReader(std::istream& in, std::string name) : in_(&in), name_(std::move(name)) { read_header(); }

bool CsvReader::read_line() {
  if (!std::getline(*in_, line_)) {
    // The end of the file, or a read that failed (a disk or network error): the latter must not
    // pass for the end, or a prediction or an evaluation would cover part of the file and say nothing.
    if (in_->bad()) {
      throw Error(ErrorKind::kIo, "reading failed after line " + std::to_string(line_number_), name_, "a readable file");
    }
    return false;
  }
  bytes_read_ += line_.size() + 1;
  ++line_number_;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

void CsvReader::read_header() {
  if (!read_line()) throw Error(ErrorKind::kInvalidArgument, "file is empty", name_, "a header row naming the columns");
  // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first column's name.
  if (line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);
  std::vector<std::string_view> cells;
  split(cells);
  for (auto cell : cells) header_.emplace_back(cell);
  for (auto& name : header_) {
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
  }
}

bool CsvReader::next_row(std::vector<std::string_view>& cells) {
  for (;;) {
    if (!read_line()) return false;
    if (line_.empty()) continue;
    split(cells);
    return true;
  }
}

void CsvReader::split(std::vector<std::string_view>& cells) {
  cells.clear();
  const std::string_view line = line_;
  if (line.find('"') == std::string_view::npos) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      if (comma == std::string_view::npos) {
        cells.push_back(line.substr(start));
        return;
      }
      cells.push_back(line.substr(start, comma - start));
      start = comma + 1;
    }
  }
  // Quoted fields: unescape into unquoted_, reserved up front so views stay valid.
  unquoted_.clear();
  unquoted_.reserve(line.size());
  std::size_t i = 0;
  for (;;) {
    const std::size_t begin = unquoted_.size();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) {
          throw Error(ErrorKind::kInvalidArgument, "unterminated quoted field", name_ + ":" + std::to_string(line_number_),
                      "a closing quote on the same line");
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            unquoted_.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        unquoted_.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') {
        throw Error(ErrorKind::kInvalidArgument, "text after a closing quote", name_ + ":" + std::to_string(line_number_),
                    "a comma or the end of the line");
      }
    } else {
      while (i < line.size() && line[i] != ',') unquoted_.push_back(line[i++]);
    }
    cells.push_back(std::string_view(unquoted_).substr(begin, unquoted_.size() - begin));
    if (i >= line.size()) return;
    ++i;  // the comma
    if (i == line.size()) {
      cells.push_back(std::string_view());
      return;
    }
  }
}

}  // namespace orchard
