// The population stability index between a reference and a live distribution over the same bins,
// and the status it maps to.
//
//   PSI = Σ_i (l_i − r_i) · ln(l_i / r_i),   r_i = max(ref_i / Σ ref, ε),   l_i = max(live_i / Σ live, ε)
//
// An empty bin on either side would make a term infinite, so fractions are floored at ε = 1e-4 (as
// most drift tools do; the floored fractions are not renormalized). A bin empty in the reference and
// holding 10% of live rows then contributes (0.1 − 0.0001)·ln(1000) ≈ 0.69: a new category or a
// value beyond the reference's range is an alert on its own, as it should be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orchard {

constexpr double kPsiEpsilon = 1e-4;

// Requires reference.size() == live.size(). Returns 0 when either side has no rows at all (nothing
// to compare; callers report "not enough data" by row count, not by PSI).
double psi(const std::vector<std::uint64_t>& reference, const std::vector<std::uint64_t>& live);
// The same over raw arrays of n bins (the drift monitor's bucket sums).
double psi(const std::uint64_t* reference, const std::uint64_t* live, std::size_t n);

// Fractions of the total per bin (all zeros for an empty distribution).
std::vector<double> fractions(const std::uint64_t* counts, std::size_t n);

enum class DriftStatus { kOk, kWatch, kAlert };

struct DriftThresholds {
  double watch = 0.1;   // PSI >= watch: watch
  double alert = 0.25;  // PSI >= alert: alert
};

DriftStatus drift_status(double psi_value, const DriftThresholds& thresholds);
const char* drift_status_name(DriftStatus status);  // "ok", "watch", "alert"

}  // namespace orchard
