#include "monitoring/reference_profile.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace orchard {
namespace {

using nlohmann::json;

// Bounds that keep a hostile or corrupted profile from costing unbounded memory per time bucket;
// dataset_profile writes at most 9 edges and 101 categories.
constexpr std::size_t kMaxEdges = 1000;
constexpr std::size_t kMaxCategories = 1000;
constexpr double kMaxTableCode = 65535;  // integer codes up to this are found by direct lookup

[[noreturn]] void bad(const std::string& where, const std::string& what, const std::string& expected) {
  throw Error(ErrorKind::kInvalidArgument, what, "reference profile: " + where, expected);
}

std::uint64_t count_at(const json& value, const std::string& where) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(value.get<std::int64_t>());
  bad(where, "not a count: " + value.dump(), "a non-negative integer");
}

const json& member(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) bad(where, std::string("no \"") + key + "\"", std::string("a \"") + key + "\" member");
  return *it;
}

std::string name_of(const json& entry, const std::string& where) {
  const json& name = member(entry, "name", where);
  if (!name.is_string()) bad(where + ".name", "not a string: " + name.dump(), "the feature's or output's name");
  return name.get<std::string>();
}

void parse_numeric(const json& entry, const std::string& where, std::uint64_t missing, ReferenceBins& bins) {
  bins.kind = ReferenceBins::Kind::kNumeric;
  const json& edges = member(entry, "edges", where);
  const json& counts = member(entry, "counts", where);
  if (!edges.is_array() || edges.size() > kMaxEdges) bad(where + ".edges", "not an array of at most 1000 numbers", "the decile cut points");
  if (!counts.is_array()) bad(where + ".counts", "not an array", "one count per bin");
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const std::string at = where + ".edges[" + std::to_string(i) + "]";
    if (!edges[i].is_number()) bad(at, "not a number: " + edges[i].dump(), "a finite number");
    const double e = edges[i].get<double>();
    if (!std::isfinite(e)) bad(at, "not finite", "a finite number");
    if (!bins.edges.empty() && !(e > bins.edges.back())) bad(at, "edges not strictly increasing", "ascending cut points");
    bins.edges.push_back(e);
  }
  if (counts.size() != edges.size() + 1) {
    bad(where + ".counts", std::to_string(counts.size()) + " counts for " + std::to_string(edges.size()) + " edges",
        std::to_string(edges.size() + 1) + " counts (one more than the edges)");
  }
  for (std::size_t i = 0; i < counts.size(); ++i) bins.counts.push_back(count_at(counts[i], where + ".counts[" + std::to_string(i) + "]"));
  bins.counts.push_back(missing);
}

void parse_categorical(const json& entry, const std::string& where, std::uint64_t missing, ReferenceBins& bins) {
  bins.kind = ReferenceBins::Kind::kCategorical;
  const json& frequencies = member(entry, "frequencies", where);
  if (!frequencies.is_object() || frequencies.size() > kMaxCategories) {
    bad(where + ".frequencies", "not an object of at most 1000 categories", "{\"code\": count, …, \"other\": count}");
  }
  std::vector<std::pair<double, std::pair<std::string, std::uint64_t>>> codes;
  std::uint64_t other = 0;
  for (const auto& [key, value] : frequencies.items()) {
    const std::string at = where + ".frequencies[\"" + key + "\"]";
    const std::uint64_t n = count_at(value, at);
    if (key == "other") {
      other = n;
      continue;
    }
    char* end = nullptr;
    const double code = std::strtod(key.c_str(), &end);
    if (key.empty() || end != key.c_str() + key.size() || !std::isfinite(code)) bad(at, "not a category code", "a number or \"other\"");
    codes.push_back({code, {key, n}});
  }
  std::sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i && codes[i].first == codes[i - 1].first) bad(where + ".frequencies", "category " + codes[i].second.first + " appears twice", "distinct codes");
    bins.category_codes.push_back(codes[i].first);
    bins.categories.push_back(codes[i].second.first);
    bins.counts.push_back(codes[i].second.second);
  }
  bins.counts.push_back(other);
  bins.counts.push_back(missing);
}

ReferenceBins parse_distribution(const json& entry, const std::string& where, bool feature) {
  if (!entry.is_object()) bad(where, "not an object", "{\"name\", \"edges\", \"counts\", …}");
  ReferenceBins bins;
  bins.name = name_of(entry, where);
  std::uint64_t missing = 0;
  std::string kind = "numeric";
  if (feature) {
    missing = count_at(member(entry, "missing", where), where + ".missing");
    const json& k = member(entry, "kind", where);
    if (!k.is_string() || (k != "numeric" && k != "categorical")) bad(where + ".kind", "unknown kind " + k.dump(), "\"numeric\" or \"categorical\"");
    kind = k.get<std::string>();
  }
  if (kind == "numeric") parse_numeric(entry, where, missing, bins);
  else parse_categorical(entry, where, missing, bins);
  bins.finish();
  return bins;
}

}  // namespace

std::uint64_t ReferenceBins::total() const {
  std::uint64_t sum = 0;
  for (const auto n : counts) sum += n;
  return sum;
}

void ReferenceBins::finish() {
  code_table_.clear();
  small_codes_ = false;
  padded_ = kind == Kind::kNumeric && edges.size() <= kPadded;
  if (padded_) {
    std::fill(std::begin(padded_edges_), std::end(padded_edges_), std::numeric_limits<double>::infinity());
    std::copy(edges.begin(), edges.end(), padded_edges_);
  }
  if (kind != Kind::kCategorical) return;
  const bool small = std::all_of(category_codes.begin(), category_codes.end(),
                                 [](double c) { return c >= 0 && c <= kMaxTableCode && c == std::floor(c); });
  if (!small) return;
  small_codes_ = true;
  const double largest = category_codes.empty() ? -1 : category_codes.back();
  code_table_.assign(static_cast<std::size_t>(largest + 1), static_cast<std::uint32_t>(other_bin()));
  for (std::size_t i = 0; i < category_codes.size(); ++i) code_table_[static_cast<std::size_t>(category_codes[i])] = static_cast<std::uint32_t>(i);
}

std::size_t ReferenceBins::numeric_bin_search(double x) const {
  return static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), x) - edges.begin());
}

std::size_t ReferenceBins::category_bin_search(double x) const {
  const auto it = std::lower_bound(category_codes.begin(), category_codes.end(), x);
  if (it != category_codes.end() && *it == x) return static_cast<std::size_t>(it - category_codes.begin());
  return other_bin();
}

ReferenceProfile parse_reference_profile(const std::string& json_text) {
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::exception& e) {
    bad("(document)", std::string("not JSON: ") + e.what(), "the JSON written by dataset_profile");
  }
  if (!document.is_object()) bad("(document)", "not an object", "{\"format\": 1, \"rows\", \"features\", \"predictions\"}");
  const json& format = member(document, "format", "(document)");
  if (format != 1) bad("format", "unsupported format " + format.dump(), "1");
  ReferenceProfile profile;
  profile.rows = static_cast<std::int64_t>(count_at(member(document, "rows", "(document)"), "rows"));
  const json& features = member(document, "features", "(document)");
  const json& predictions = member(document, "predictions", "(document)");
  if (!features.is_array()) bad("features", "not an array", "one entry per model feature");
  if (!predictions.is_array()) bad("predictions", "not an array", "one entry per model output");
  for (std::size_t f = 0; f < features.size(); ++f) {
    profile.features.push_back(parse_distribution(features[f], "features[" + std::to_string(f) + "]", true));
  }
  for (std::size_t k = 0; k < predictions.size(); ++k) {
    profile.outputs.push_back(parse_distribution(predictions[k], "predictions[" + std::to_string(k) + "]", false));
  }
  return profile;
}

}  // namespace orchard
