#include "support/predictions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "engine/output_transform.h"
#include "engine/reference_evaluator.h"
#include "engine/thread_pool.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace orchard::testing {

std::vector<std::vector<std::string>> read_tsv_lines(const std::string& path) {
  std::vector<std::vector<std::string>> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    lines.push_back(std::move(fields));
  }
  return lines;
}

std::vector<double> read_feature_rows(const Model& model, const std::string& csv_path, std::size_t& rows) {
  CsvReader reader(csv_path);
  ColumnMapping mapping(model, reader.header(), csv_path);
  std::vector<double> values;
  std::vector<std::string_view> cells;
  rows = 0;
  while (reader.next_row(cells)) {
    values.resize((rows + 1) * static_cast<std::size_t>(model.num_features()));
    mapping.fill(cells, reader.line_number(), values.data() + rows * static_cast<std::size_t>(model.num_features()));
    ++rows;
  }
  return values;
}

std::vector<double> predict_row(const Predictor& predictor, const std::vector<double>& row, bool raw) {
  std::vector<double> out(static_cast<std::size_t>(predictor.num_values(raw)));
  predictor.predict_row(row.data(), out.data(), raw);
  return out;
}

std::vector<double> predict_row(const Model& model, const std::vector<double>& row, bool raw) {
  return predict_row(Predictor(model, "test"), row, raw);
}

double expect_rows_within(const std::vector<double>& actual, const std::vector<std::vector<double>>& expected,
                          std::size_t width, double tolerance, const std::string& what) {
  EXPECT_EQ(actual.size(), expected.size() * width) << what;
  double worst = 0.0;
  std::size_t failures = 0;
  for (std::size_t r = 0; r < expected.size() && (r + 1) * width <= actual.size(); ++r) {
    EXPECT_EQ(expected[r].size(), width) << what << ": expected file row " << r;
    for (std::size_t k = 0; k < width && k < expected[r].size(); ++k) {
      const double a = actual[r * width + k];
      const double e = expected[r][k];
      const double error = std::abs(a - e);
      worst = std::max(worst, std::isnan(error) ? INFINITY : error);
      if (!(error <= tolerance + tolerance * std::abs(e)) && failures++ < 5) {
        ADD_FAILURE() << what << ": row " << r << " output " << k << ": got " << a << ", expected " << e << " (diff " << error << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": values outside tolerance";
  return worst;
}

double expect_engine_paths_match(const Predictor& predictor, const std::vector<double>& inputs, std::size_t rows,
                                 const std::vector<std::vector<double>>& expected, bool raw, double tolerance,
                                 const std::string& mode) {
  const std::size_t width = static_cast<std::size_t>(predictor.num_values(raw));
  ThreadPool pool(2);
  std::vector<double> batch(rows * width);
  predictor.predict_rows(inputs.data(), rows, batch.data(), raw, &pool);
  const double worst = expect_rows_within(batch, expected, width, tolerance, "batch " + mode);

  std::vector<double> single(rows * width);
  const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
  for (std::size_t r = 0; r < rows; ++r) predictor.predict_row(inputs.data() + r * nf, single.data() + r * width, raw);
  expect_rows_within(single, expected, width, tolerance, "single row " + mode);
  EXPECT_EQ(batch, single) << "the batch and single-row paths agree bit for bit " << mode;
  return worst;
}

std::vector<double> reference_predictions(const Model& model, const std::vector<double>& inputs, std::size_t rows, bool raw) {
  const std::size_t outputs = static_cast<std::size_t>(model.num_outputs);
  const std::size_t width = raw ? outputs : static_cast<std::size_t>(model.num_predictions());
  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  std::vector<double> margins(outputs);
  std::vector<double> predictions(rows * width);
  for (std::size_t r = 0; r < rows; ++r) {
    reference_margins(model, inputs.data() + r * nf, margins.data());
    if (raw) {
      // Raw outputs are averaged only when the library averages its raw margins too (raw_is_averaged).
      if (model.raw_is_averaged) for (double& m : margins) m /= model.average_divisor;
      std::copy(margins.begin(), margins.end(), predictions.begin() + static_cast<std::ptrdiff_t>(r * width));
    } else {
      for (double& m : margins) m /= model.average_divisor;
      apply_output_transform(model.transform, margins.data(), model.num_outputs, predictions.data() + r * width);
    }
  }
  return predictions;
}

}  // namespace orchard::testing
