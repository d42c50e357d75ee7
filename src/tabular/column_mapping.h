// Matching a CSV's columns to a model's features, and turning cells into numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model.h"

namespace orchard {

class ColumnMapping {
 public:
  // By name when the model knows its feature names (extra columns are ignored; a feature without a
  // column is an error naming it), by position otherwise (the column count, not counting the
  // `excluded` columns such as a label, must then match). Throws Error(kInvalidArgument).
  ColumnMapping(const Model& model, const std::vector<std::string>& header, const std::string& source,
                const std::vector<std::string>& excluded = {});

  // Fills `row` (num_features values, model order) from one CSV row. Empty, "NaN" and "nan" cells
  // are missing values (NaN). For a feature with category names (Feature::categories), a cell naming
  // a category gives its code and any other text kUnknownCategory (model.h). Throws
  // Error(kInvalidArgument) naming line and column for any other cell that is not a number.
  void fill(const std::vector<std::string_view>& cells, std::uint64_t line, double* row) const;

  std::size_t num_features() const { return columns_.size(); }
  bool by_name() const { return by_name_; }

 private:
  std::vector<std::size_t> columns_;  // CSV column for each model feature
  std::vector<std::pair<std::size_t, Feature>> categorical_;  // features with category names, in order
  std::vector<std::string> header_;
  std::string source_;
  std::size_t expected_cells_;
  bool by_name_;
};

// Parses one cell. Returns false if it is not a number or a missing-value marker.
bool parse_cell(std::string_view cell, double& value);

}  // namespace orchard
