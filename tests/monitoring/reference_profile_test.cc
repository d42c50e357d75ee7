#include "monitoring/reference_profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "common/error.h"
#include "support/test_support.h"

namespace orchard {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// A profile as dataset_profile writes it (nlohmann sorts object keys, so "other" sits among the codes).
const char* kProfile = R"({"format": 1, "rows": 20,
  "features": [
    {"name": "x", "missing": 2, "missing_rate": 0.1, "kind": "numeric", "edges": [1, 2, 3], "counts": [4, 5, 6, 3]},
    {"name": "plan", "missing": 1, "missing_rate": 0.05, "kind": "categorical",
     "frequencies": {"0": 5, "10": 1, "2": 3, "other": 10}}],
  "predictions": [{"name": "p", "edges": [0.5], "counts": [12, 8]}]})";

TEST(ReferenceProfile, ParsesNumericCategoricalAndOutputBins) {
  const ReferenceProfile profile = parse_reference_profile(kProfile);
  EXPECT_EQ(profile.rows, 20);
  ASSERT_EQ(profile.features.size(), 2u);
  const ReferenceBins& x = profile.features[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.kind, ReferenceBins::Kind::kNumeric);
  EXPECT_EQ(x.edges, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(x.counts, (std::vector<std::uint64_t>{4, 5, 6, 3, 2}));  // missing last
  EXPECT_EQ(x.total(), 20u);
  const ReferenceBins& plan = profile.features[1];
  EXPECT_EQ(plan.kind, ReferenceBins::Kind::kCategorical);
  EXPECT_EQ(plan.categories, (std::vector<std::string>{"0", "2", "10"}));  // numeric order
  EXPECT_EQ(plan.counts, (std::vector<std::uint64_t>{5, 3, 1, 10, 1}));   // then other, then missing
  ASSERT_EQ(profile.outputs.size(), 1u);
  EXPECT_EQ(profile.outputs[0].counts, (std::vector<std::uint64_t>{12, 8, 0}));  // outputs: missing 0
}

TEST(ReferenceProfile, NumericBinsHoldTheUpperEdge) {
  const ReferenceBins x = parse_reference_profile(kProfile).features[0];
  EXPECT_EQ(x.bin_of(0.5), 0u);
  EXPECT_EQ(x.bin_of(1.0), 0u);  // edges[i-1] < x <= edges[i]
  EXPECT_EQ(x.bin_of(std::nextafter(1.0, 2.0)), 1u);
  EXPECT_EQ(x.bin_of(2.0), 1u);
  EXPECT_EQ(x.bin_of(3.0), 2u);
  EXPECT_EQ(x.bin_of(3.5), 3u);
  EXPECT_EQ(x.bin_of(kInf), 3u);
  EXPECT_EQ(x.bin_of(-kInf), 0u);
  EXPECT_EQ(x.bin_of(kNaN), 4u);
  EXPECT_EQ(x.missing_bin(), 4u);
}

// dataset_profile counts with lower_bound over the edges; bin_of must agree on every value, on both
// the short (branch-free) path and the binary-search path used for long edge lists.
TEST(ReferenceProfile, BinOfAgreesWithDatasetProfilesLowerBound) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(-10, 10);
  for (const std::size_t n : {0u, 1u, 9u, 16u, 17u, 40u}) {
    ReferenceBins bins;
    for (std::size_t i = 0; i < n; ++i) bins.edges.push_back(std::round(uniform(rng) * 4) / 4);
    std::sort(bins.edges.begin(), bins.edges.end());
    bins.edges.erase(std::unique(bins.edges.begin(), bins.edges.end()), bins.edges.end());
    bins.counts.assign(bins.edges.size() + 2, 1);
    bins.finish();
    for (int i = 0; i < 2000; ++i) {
      const double x = i % 3 == 0 && !bins.edges.empty() ? bins.edges[static_cast<std::size_t>(i) % bins.edges.size()]
                                                          : std::round(uniform(rng) * 8) / 8;
      const auto expected = static_cast<std::size_t>(std::lower_bound(bins.edges.begin(), bins.edges.end(), x) - bins.edges.begin());
      ASSERT_EQ(bins.bin_of(x), expected) << "x = " << x << " with " << bins.edges.size() << " edges";
    }
  }
}

TEST(ReferenceProfile, CategoriesByCodeUnknownCodesAreOther) {
  const ReferenceBins plan = parse_reference_profile(kProfile).features[1];
  EXPECT_EQ(plan.bin_of(0), 0u);
  EXPECT_EQ(plan.bin_of(2), 1u);
  EXPECT_EQ(plan.bin_of(10), 2u);
  EXPECT_EQ(plan.bin_of(3), 3u);     // never seen: other
  EXPECT_EQ(plan.bin_of(2.5), 3u);   // not an integer code
  EXPECT_EQ(plan.bin_of(-1), 3u);
  EXPECT_EQ(plan.bin_of(1e9), 3u);
  EXPECT_EQ(plan.bin_of(kInf), 3u);
  EXPECT_EQ(plan.bin_of(kNaN), 4u);
}

TEST(ReferenceProfile, NegativeAndFractionalCodesAreFoundBySearch) {
  const ReferenceBins bins = parse_reference_profile(R"({"format": 1, "rows": 6, "features": [
      {"name": "c", "missing": 0, "kind": "categorical", "frequencies": {"-1": 1, "0.5": 2, "100000": 3}}],
      "predictions": []})").features[0];
  EXPECT_EQ(bins.categories, (std::vector<std::string>{"-1", "0.5", "100000"}));
  EXPECT_EQ(bins.bin_of(-1), 0u);
  EXPECT_EQ(bins.bin_of(0.5), 1u);
  EXPECT_EQ(bins.bin_of(100000), 2u);
  EXPECT_EQ(bins.bin_of(7), 3u);  // other (the profile had none: count 0)
  EXPECT_EQ(bins.counts, (std::vector<std::uint64_t>{1, 2, 3, 0, 0}));
}

TEST(ReferenceProfile, MalformedProfilesAreErrorsNamingTheField) {
  struct Case {
    const char* json;
    const char* names;
  };
  const Case cases[] = {
      {"{not json", "not JSON"},
      {"[]", "not an object"},
      {R"({"format": 2, "rows": 1, "features": [], "predictions": []})", "format"},
      {R"({"format": 1, "features": [], "predictions": []})", "rows"},
      {R"({"format": 1, "rows": 1, "features": {}, "predictions": []})", "features"},
      {R"({"format": 1, "rows": 1, "features": [], "predictions": [{"name": "p", "edges": [2, 1], "counts": [1, 1, 1]}]})",
       "predictions[0].edges[1]"},
      {R"({"format": 1, "rows": 1, "features": [], "predictions": [{"name": "p", "edges": [1], "counts": [1]}]})", "predictions[0].counts"},
      {R"({"format": 1, "rows": 1, "features": [], "predictions": [{"name": "p", "edges": [1], "counts": [1, -1]}]})",
       "predictions[0].counts[1]"},
      {R"({"format": 1, "rows": 1, "features": [], "predictions": [{"name": "p", "edges": ["a"], "counts": [1, 1]}]})",
       "predictions[0].edges[0]"},
      {R"({"format": 1, "rows": 1, "features": [{"name": "x", "missing": 0, "kind": "weird"}], "predictions": []})", "features[0].kind"},
      {R"({"format": 1, "rows": 1, "features": [{"name": "x", "kind": "numeric", "edges": [], "counts": [1]}], "predictions": []})",
       "features[0]"},
      {R"({"format": 1, "rows": 1, "features": [{"name": "x", "missing": 0, "kind": "categorical", "frequencies": {"abc": 1}}], "predictions": []})",
       "frequencies[\"abc\"]"},
      {R"({"format": 1, "rows": 1, "features": [{"name": "x", "missing": 0, "kind": "categorical", "frequencies": {"1": 1, "1.0": 2}}], "predictions": []})",
       "appears twice"},
      {R"({"format": 1, "rows": 1, "features": [{"name": 3, "missing": 0, "kind": "numeric", "edges": [], "counts": [1]}], "predictions": []})",
       "features[0].name"},
  };
  for (const Case& c : cases) {
    try {
      parse_reference_profile(c.json);
      ADD_FAILURE() << "accepted: " << c.json;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << c.json;
      EXPECT_NE(std::string(e.what()).find(c.names), std::string::npos) << "\"" << e.what() << "\" does not name " << c.names;
    }
  }
}

}  // namespace
}  // namespace orchard
