#include "monitoring/psi.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace orchard {

double psi(const std::uint64_t* reference, const std::uint64_t* live, std::size_t n) {
  std::uint64_t reference_total = 0, live_total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    reference_total += reference[i];
    live_total += live[i];
  }
  if (reference_total == 0 || live_total == 0) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = std::max(static_cast<double>(reference[i]) / static_cast<double>(reference_total), kPsiEpsilon);
    const double l = std::max(static_cast<double>(live[i]) / static_cast<double>(live_total), kPsiEpsilon);
    sum += (l - r) * std::log(l / r);
  }
  return sum;
}

double psi(const std::vector<std::uint64_t>& reference, const std::vector<std::uint64_t>& live) {
  assert(reference.size() == live.size());
  return psi(reference.data(), live.data(), std::min(reference.size(), live.size()));
}

std::vector<double> fractions(const std::uint64_t* counts, std::size_t n) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += counts[i];
  std::vector<double> out(n, 0.0);
  if (total == 0) return out;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(counts[i]) / static_cast<double>(total);
  return out;
}

DriftStatus drift_status(double psi_value, const DriftThresholds& thresholds) {
  if (psi_value >= thresholds.alert) return DriftStatus::kAlert;
  if (psi_value >= thresholds.watch) return DriftStatus::kWatch;
  return DriftStatus::kOk;
}

const char* drift_status_name(DriftStatus status) {
  switch (status) {
    case DriftStatus::kOk: return "ok";
    case DriftStatus::kWatch: return "watch";
    case DriftStatus::kAlert: return "alert";
  }
  return "?";
}

}  // namespace orchard
