#include "cli/column_mapping.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "common/error.h"

namespace orchard {

bool parse_cell(std::string_view cell, double& value) {
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
  if (cell.empty() || cell == "NaN" || cell == "nan" || cell == "NAN") {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (cell.front() == '+') cell.remove_prefix(1);
  auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow to +-inf, underflow to a signed zero, as strtod does.
    const bool negative = cell.front() == '-';
    std::size_t e = cell.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < cell.size() && cell[e + 1] == '-';
    value = tiny ? (negative ? -0.0 : 0.0) : (negative ? -HUGE_VAL : HUGE_VAL);
    return true;
  }
  return ec == std::errc();
}

ColumnMapping::ColumnMapping(const Model& model, const std::vector<std::string>& header, const std::string& source)
    : header_(header), source_(source), expected_cells_(header.size()), by_name_(model.has_feature_names) {
  const std::size_t n = static_cast<std::size_t>(model.num_features());
  columns_.resize(n);
  if (by_name_) {
    std::unordered_map<std::string, std::size_t> position;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (!position.emplace(header[c], c).second) {
        throw Error(ErrorKind::kInvalidArgument, "column \"" + header[c] + "\" appears twice in the header", source, "unique column names");
      }
    }
    std::string missing;
    for (std::size_t f = 0; f < n; ++f) {
      auto it = position.find(model.features[f].name);
      if (it == position.end()) {
        missing += (missing.empty() ? "" : ", ") + ("\"" + model.features[f].name + "\"");
        continue;
      }
      columns_[f] = it->second;
    }
    if (!missing.empty()) {
      throw Error(ErrorKind::kInvalidArgument, "the model's feature(s) " + missing + " have no column", source,
                  "a header naming every model feature (extra columns are ignored)");
    }
  } else {
    if (header.size() != n) {
      throw Error(ErrorKind::kInvalidArgument,
                  "the model has no feature names and the file has " + std::to_string(header.size()) + " columns", source,
                  std::to_string(n) + " columns, in the model's feature order");
    }
    for (std::size_t f = 0; f < n; ++f) columns_[f] = f;
  }
}

void ColumnMapping::fill(const std::vector<std::string_view>& cells, std::uint64_t line, double* row) const {
  if (cells.size() != expected_cells_) {
    throw Error(ErrorKind::kInvalidArgument, "row has " + std::to_string(cells.size()) + " cells",
                source_ + ":" + std::to_string(line), std::to_string(expected_cells_) + " like the header");
  }
  for (std::size_t f = 0; f < columns_.size(); ++f) {
    const std::size_t c = columns_[f];
    if (!parse_cell(cells[c], row[f])) {
      throw Error(ErrorKind::kInvalidArgument, "cell \"" + std::string(cells[c]) + "\" in column \"" + header_[c] + "\" is not a number",
                  source_ + ":" + std::to_string(line) + ", column " + std::to_string(c + 1),
                  "a number, or empty / NaN for a missing value");
    }
  }
}

}  // namespace orchard
