// Fuzz target: the CSV reader (tabular/csv_reader.h) and the matching of its columns to a model's
// features (tabular/column_mapping.h), as `orchard predict` and evaluation use them.
#include <optional>
#include <sstream>

#include "fuzz_support.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace orchard;
  std::istringstream in(std::string(fuzz::as_view(data, size)));
  try {
    CsvReader reader(in, "fuzz input");
    std::vector<std::string_view> cells;
    std::optional<ColumnMapping> mapping;
    try {
      mapping.emplace(fuzz::churn_model(), reader.header(), "fuzz input", std::vector<std::string>{"target"});
    } catch (const Error&) {
    }
    std::vector<double> row(static_cast<std::size_t>(fuzz::churn_model().num_features()));
    while (reader.next_row(cells)) {
      if (!mapping) continue;
      try {
        mapping->fill(cells, reader.line_number(), row.data());
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
