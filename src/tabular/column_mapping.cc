#include "tabular/column_mapping.h"

#include <charconv>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <algorithm>
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
  if (cell.front() == '+') {
    cell.remove_prefix(1);
    if (cell.empty() || cell.front() == '+' || cell.front() == '-') return false;
  }
  auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value unset; strtod gives the correctly signed infinity or zero.
    const std::string copy(cell);
    value = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

ColumnMapping::ColumnMapping(const Model& model, const std::vector<std::string>& header, const std::string& source,
                             const std::vector<std::string>& excluded)
    : header_(header), source_(source), expected_cells_(header.size()), by_name_(model.has_feature_names) {
  const std::size_t n = static_cast<std::size_t>(model.num_features());
  columns_.resize(n);
  for (std::size_t f = 0; f < n; ++f) {
    if (!model.features[f].categories.empty()) categorical_.push_back({f, model.features[f]});
  }
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
    std::vector<std::size_t> positions;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (std::find(excluded.begin(), excluded.end(), header[c]) == excluded.end()) positions.push_back(c);
    }
    if (positions.size() != n) {
      throw Error(ErrorKind::kInvalidArgument,
                  "the model has no feature names and the file has " + std::to_string(positions.size()) + " columns" +
                      (positions.size() == header.size() ? std::string() : " besides the label"),
                  source, std::to_string(n) + " columns, in the model's feature order");
    }
    for (std::size_t f = 0; f < n; ++f) columns_[f] = positions[f];
  }
}

void ColumnMapping::fill(const std::vector<std::string_view>& cells, std::uint64_t line, double* row) const {
  if (cells.size() != expected_cells_) {
    throw Error(ErrorKind::kInvalidArgument, "row has " + std::to_string(cells.size()) + " cells",
                source_ + ":" + std::to_string(line), std::to_string(expected_cells_) + " like the header");
  }
  std::size_t next_categorical = 0;
  for (std::size_t f = 0; f < columns_.size(); ++f) {
    const std::size_t c = columns_[f];
    if (next_categorical < categorical_.size() && categorical_[next_categorical].first == f) {
      // A feature with category names: a name gives its code, a number is taken as a code (unless
      // the names are numbers themselves), anything else is an unknown category (not a missing value).
      const Feature& feature = categorical_[next_categorical++].second;
      const double code = category_code(feature, cells[c]);
      if (code != kUnknownCategory) {
        row[f] = code;
      } else if (!numbers_are_category_codes(feature) || !parse_cell(cells[c], row[f])) {
        row[f] = kUnknownCategory;
      }
      continue;
    }
    if (!parse_cell(cells[c], row[f])) {
      throw Error(ErrorKind::kInvalidArgument, "cell \"" + std::string(cells[c]) + "\" in column \"" + header_[c] + "\" is not a number",
                  source_ + ":" + std::to_string(line) + ", column " + std::to_string(c + 1),
                  "a number, or empty / NaN for a missing value");
    }
  }
}

}  // namespace orchard
