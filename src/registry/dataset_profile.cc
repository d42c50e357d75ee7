#include "registry/dataset_profile.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"
#include "common/error.h"
#include "common/sha256.h"

namespace orchard {
namespace {

constexpr std::size_t kSampleSize = 65536;  // values kept per column to find the decile cut points
constexpr std::size_t kMaxCategories = 100;

// Decile cut points of a numeric column, found on a uniform sample, counted on all values.
class Deciles {
 public:
  void sample(double value, std::mt19937_64& rng) {
    // Not ±inf either: an infinite cut point cannot be written in JSON (it became null, and the
    // profile unreadable). Infinite values are still counted, in the first or last bin.
    if (!std::isfinite(value)) return;
    ++seen_;
    if (values_.size() < kSampleSize) {
      values_.push_back(value);
    } else {
      const std::uint64_t slot = rng() % seen_;
      if (slot < kSampleSize) values_[slot] = value;
    }
  }
  void fix_edges() {
    std::sort(values_.begin(), values_.end());
    edges_.clear();
    if (!values_.empty()) {
      for (int q = 1; q <= 9; ++q) {
        const double edge = values_[(values_.size() - 1) * static_cast<std::size_t>(q) / 10];
        if (edges_.empty() || edge > edges_.back()) edges_.push_back(edge);
      }
    }
    counts_.assign(edges_.size() + 1, 0);
    values_.clear();
    values_.shrink_to_fit();
  }
  void count(double value) {
    if (std::isnan(value)) return;
    const auto bin = static_cast<std::size_t>(std::lower_bound(edges_.begin(), edges_.end(), value) - edges_.begin());
    ++counts_[bin];
  }
  nlohmann::json json() const { return {{"edges", edges_}, {"counts", counts_}}; }

 private:
  std::vector<double> values_;
  std::uint64_t seen_ = 0;
  std::vector<double> edges_;
  std::vector<std::uint64_t> counts_;
};

std::string category_key(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

}  // namespace

DatasetSummary summarize_dataset(const std::string& csv_path, const std::string& label_column, const Predictor& predictor) {
  const Model& model = predictor.model();
  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  const std::size_t nv = static_cast<std::size_t>(predictor.num_values(false));
  DatasetSummary summary;
  std::size_t file_size = 0;
  summary.fingerprint.sha256 = sha256_file_hex(csv_path, &file_size);
  summary.fingerprint.path = csv_path;

  std::vector<Deciles> features(nf), outputs(nv);
  std::vector<std::map<std::string, std::uint64_t>> categories(nf);
  std::vector<std::uint64_t> missing(nf, 0);
  std::mt19937_64 rng(42);
  std::int64_t rows = 0;

  // Two passes: the first samples values for the cut points, the second counts them.
  for (int pass = 0; pass < 2; ++pass) {
    CsvReader reader(csv_path);
    if (!label_column.empty() && std::find(reader.header().begin(), reader.header().end(), label_column) == reader.header().end()) {
      throw Error(ErrorKind::kInvalidArgument, "label column \"" + label_column + "\" is not in the header", csv_path,
                  "a column named " + label_column);
    }
    summary.fingerprint.columns = static_cast<std::int64_t>(reader.header().size());
    const ColumnMapping mapping(model, reader.header(), csv_path,
                                label_column.empty() ? std::vector<std::string>{} : std::vector<std::string>{label_column});
    std::vector<std::string_view> cells;
    constexpr std::size_t kChunk = 4096;
    std::vector<double> x(kChunk * std::max<std::size_t>(nf, 1)), y(kChunk * nv);
    rows = 0;
    for (;;) {
      std::size_t n = 0;
      while (n < kChunk && reader.next_row(cells)) mapping.fill(cells, reader.line_number(), x.data() + n++ * nf);
      if (n == 0) break;
      predictor.predict_rows(x.data(), n, y.data(), false);
      for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t f = 0; f < nf; ++f) {
          const double value = x[r * nf + f];
          if (model.features[f].type == FeatureType::kCategorical) {
            if (pass == 1) {
              if (std::isnan(value)) ++missing[f];
              else ++categories[f][category_key(value)];
            }
          } else if (pass == 0) {
            features[f].sample(value, rng);
          } else {
            if (std::isnan(value)) ++missing[f];
            features[f].count(value);
          }
        }
        for (std::size_t k = 0; k < nv; ++k) {
          if (pass == 0) outputs[k].sample(y[r * nv + k], rng);
          else outputs[k].count(y[r * nv + k]);
        }
      }
      rows += static_cast<std::int64_t>(n);
      if (n < kChunk) break;
    }
    if (pass == 0) {
      for (auto& d : features) d.fix_edges();
      for (auto& d : outputs) d.fix_edges();
    }
  }
  summary.fingerprint.rows = rows;

  nlohmann::json profile = {{"format", 1}, {"rows", rows}};
  nlohmann::json feature_list = nlohmann::json::array();
  for (std::size_t f = 0; f < nf; ++f) {
    nlohmann::json entry = {{"name", model.features[f].name},
                            {"missing", missing[f]},
                            {"missing_rate", rows ? static_cast<double>(missing[f]) / static_cast<double>(rows) : 0.0}};
    if (model.features[f].type == FeatureType::kCategorical) {
      std::vector<std::pair<std::string, std::uint64_t>> sorted(categories[f].begin(), categories[f].end());
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      nlohmann::json frequencies = nlohmann::json::object();
      std::uint64_t other = 0;
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i < kMaxCategories) frequencies[sorted[i].first] = sorted[i].second;
        else other += sorted[i].second;
      }
      if (other) frequencies["other"] = other;
      entry["kind"] = "categorical";
      entry["frequencies"] = frequencies;
    } else {
      entry["kind"] = "numeric";
      entry.update(features[f].json());
    }
    feature_list.push_back(entry);
  }
  profile["features"] = feature_list;
  nlohmann::json prediction_list = nlohmann::json::array();
  for (std::size_t k = 0; k < nv; ++k) {
    nlohmann::json entry = {{"name", model.output_names[k]}};
    entry.update(outputs[k].json());
    prediction_list.push_back(entry);
  }
  profile["predictions"] = prediction_list;
  summary.profile_json = profile.dump();
  return summary;
}

}  // namespace orchard
