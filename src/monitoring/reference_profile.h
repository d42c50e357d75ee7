// A version's reference profile (registry/dataset_profile.h, "format": 1) parsed into the bins that
// live traffic is counted in, so that drift compares like with like.
//
// Every distribution — one per model feature, one per model output — becomes a list of bins, the
// last of which is always "missing":
//   numeric:     edges e[0] < … < e[k-1] give k + 1 value bins, bin i holding e[i-1] < x <= e[i]
//                (exactly dataset_profile's binning), then missing (NaN);
//   categorical: one bin per category code of the profile (in ascending code order), then "other"
//                (codes the profile folded into "other", and codes it never saw), then missing.
// Output distributions carry no missing count in the profile: their missing bin's reference count is 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace orchard {

struct ReferenceBins {
  enum class Kind { kNumeric, kCategorical };

  std::string name;
  Kind kind = Kind::kNumeric;
  std::vector<double> edges;              // numeric only
  std::vector<std::string> categories;    // categorical only: the codes as the profile spells them
  std::vector<double> category_codes;     // the same, as numbers, ascending
  std::vector<std::uint64_t> counts;      // reference count per bin, missing last (size == bins())

  std::size_t bins() const { return counts.size(); }
  std::size_t missing_bin() const { return counts.size() - 1; }
  std::uint64_t total() const;

  // The bin of a live value: NaN → missing_bin(). No allocation, no lock.
  std::size_t bin_of(double x) const {
    if (std::isnan(x)) return missing_bin();
    return kind == Kind::kNumeric ? numeric_bin(x) : category_bin(x);
  }

  // Builds the lookup tables; called once by the parser (and by tests that fill the fields by hand).
  void finish();

 private:
  std::size_t numeric_bin(double x) const {
    if (padded_) {  // dataset_profile's deciles: at most 9 edges, counted without branches
      std::size_t bin = 0;
      for (std::size_t j = 0; j < kPadded; ++j) bin += x > padded_edges_[j];
      return bin;
    }
    return numeric_bin_search(x);
  }
  std::size_t numeric_bin_search(double x) const;
  std::size_t category_bin(double x) const {
    if (!small_codes_) return category_bin_search(x);
    if (x >= 0 && x < static_cast<double>(code_table_.size())) {
      const auto code = static_cast<std::size_t>(x);
      if (static_cast<double>(code) == x) return code_table_[code];
    }
    return other_bin();
  }
  std::size_t category_bin_search(double x) const;
  std::size_t other_bin() const { return counts.size() - 2; }

  // Up to kPadded edges are kept padded with +inf (which no value exceeds), so the count above has a
  // fixed trip count: measurably faster than looping over `edges`.
  static constexpr std::size_t kPadded = 9;
  double padded_edges_[kPadded] = {};
  bool padded_ = false;
  // Small non-negative integer codes (the common case) are found by direct lookup.
  std::vector<std::uint32_t> code_table_;
  bool small_codes_ = false;
};

struct ReferenceProfile {
  std::int64_t rows = 0;
  std::vector<ReferenceBins> features;  // in the model's feature order
  std::vector<ReferenceBins> outputs;   // one per model output (prediction)
};

// Parses a profile JSON. Throws Error(kInvalidArgument) naming the field at fault ("features[3].edges:
// not increasing") for anything that is not a well-formed format-1 profile; never crashes on bad input.
ReferenceProfile parse_reference_profile(const std::string& json_text);

}  // namespace orchard
