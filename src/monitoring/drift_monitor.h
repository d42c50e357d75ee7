// Drift of live traffic against each version's reference profile: windowed histograms of every input
// feature and every model output, on the profile's own bins, and the PSI between them.
//
// The prediction log's writer thread calls observe() for every logged entry (live and shadow rows).
// Rows are counted per (endpoint, model, version) into a ring of time buckets (bucket_width wide,
// longest_window / bucket_width of them, plus the current one), so any window up to longest_window
// is a sum of buckets: its whole buckets, rounded up, and the current bucket, which is still filling
// (a 1-minute window read at hh:mm:01 covers the last minute and a second, not a second). A version's profile is fetched once through the lookup and cached,
// including "no profile"; a malformed profile, or one that does not match the model's features, makes
// that version report "profile_unreadable" — observe() never throws.
//
// Cost: observe() takes one mutex per entry and, per row, one bin lookup and one increment per
// feature and output (no allocation once a version's current bucket exists; measured in
// bench/monitoring_bench.cc). Memory per (endpoint, version): at most
//   (longest_window / bucket_width + 1) × (Σ bins + 1) × 4 bytes,
// where Σ bins counts every feature's and output's bins including missing (a numeric feature has at
// most 11, a categorical one at most 103): 30 numeric features and one output with the defaults
// (1-minute buckets, 24 hours) is 1440 × 342 × 4 ≈ 1.9 MiB. Buckets are allocated when first written;
// a version unseen for longest_window is dropped. A profile of more than 16384 bins in all (about
// 1500 numeric features) is reported as unreadable rather than counted.
//
// Thread safety: all members may be called from any thread; observe() is meant for one writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/drift_alert.h"
#include "monitoring/psi.h"
#include "monitoring/reference_profile.h"
#include "tracing/prediction_log.h"

namespace orchard {

struct DriftMonitorOptions {
  DriftThresholds thresholds;
  std::chrono::seconds bucket_width{60};
  std::chrono::seconds longest_window{24 * 3600};
  // The window take_new_alerts() and append_metrics() measure over.
  std::chrono::seconds alert_window{15 * 60};
  // Fewer live rows than this in a window: status "not_enough_data", never an alert (PSI on a handful
  // of rows is noise).
  std::uint64_t min_rows = 100;
  // The time rows are counted at; the system clock unless a test injects one.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// Which distribution of a version: an input feature or a model output (the prediction distribution).
enum class DriftSubject { kFeature, kPrediction };

class DriftMonitor : public PredictionObserver {
 public:
  // Returns the version's profile JSON, or "" when it has none. May throw (a store error): the
  // version then reports "profile_unreadable" and the lookup is retried a minute later.
  using ProfileLookup = std::function<std::string(const std::string& model, std::int64_t version)>;

  explicit DriftMonitor(ProfileLookup lookup, DriftMonitorOptions options = {});
  ~DriftMonitor() override;
  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  // Counts the entry's rows (entry.rows: count × num_features, NaN = missing) and outputs (count ×
  // entry.width; counted only for predictions — not raw margins — whose width is the profile's number
  // of outputs) at the current time, under (endpoint, model, version) of entry.context. Never throws.
  void observe(const PredictionView& entry) noexcept override;

  // Every version seen on `endpoint` within `window` (clamped to longest_window):
  //   {"endpoint", "window_seconds", "thresholds": {"watch", "alert"}, "min_rows",
  //    "versions": [{"model", "version", "rows", "shadow_rows", "arms": [...],
  //                  "status": "ok" | "watch" | "alert" | "not_enough_data" | "no_profile" | "profile_unreadable",
  //                  "problem" (unreadable only),
  //                  "features": [{"name", "kind": "numeric" | "categorical", "psi", "status", "rows",
  //                                "missing_rate_reference", "missing_rate_live",
  //                                "edges" (numeric) | "categories" (categorical, then "other"),
  //                                "reference_fractions", "live_fractions"}],
  //                  "predictions": [same, per model output]}]}
  // Fractions are one per bin, the missing bin last (numeric: edges + 2 entries; categorical:
  // categories + 2: "other", then missing). "status" of a version is the worst of its distributions.
  nlohmann::json report(const std::string& endpoint, std::chrono::seconds window) const;

  // PSI of one distribution over time, for a chart: the last `window` cut into steps of `step`
  // (both rounded up to whole buckets), oldest first:
  //   {"endpoint", "model", "version", "subject", "name", "step_seconds",
  //    "points": [{"end" (ISO-8601), "rows", "psi" (null without rows)}]}
  // Throws Error(kNotFound) when the version was not seen on the endpoint, has no readable profile,
  // or has no such feature or output.
  nlohmann::json psi_series(const std::string& endpoint, const std::string& model, std::int64_t version, DriftSubject subject,
                            const std::string& name, std::chrono::seconds window, std::chrono::seconds step) const;

  // Features and output distributions whose PSI over alert_window is now at or above the alert
  // threshold (with at least min_rows rows) and was not at the previous call; each is returned once,
  // and again only after a call has measured it below the threshold.
  std::vector<DriftAlert> take_new_alerts();

  // Prometheus text (HELP and TYPE lines, then samples) over alert_window, for versions with a
  // readable profile and rows in that window:
  //   orchard_drift_psi{endpoint,model,version,feature}           gauge
  //   orchard_drift_prediction_psi{endpoint,model,version,output}  gauge
  //   orchard_drift_rows{endpoint,model,version}                   gauge (live rows in the window)
  void append_metrics(std::string& out) const;

  // Bytes held by the time buckets now (for the memory bound above).
  std::size_t bucket_bytes() const;

  const DriftMonitorOptions& options() const { return options_; }

 private:
  struct CachedProfile;
  struct Series;

  std::shared_ptr<const CachedProfile> profile_for(const std::string& model, std::int64_t version, std::chrono::system_clock::time_point now);
  std::unique_ptr<Series> make_series(const PredictionContext& context, std::chrono::system_clock::time_point now);
  std::int64_t epoch_of(std::chrono::system_clock::time_point time) const;
  std::size_t buckets_in(std::chrono::seconds window) const;
  void drop_stale(std::int64_t epoch);

  ProfileLookup lookup_;
  DriftMonitorOptions options_;
  std::size_t ring_size_;

  std::mutex profiles_mutex_;
  std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const CachedProfile>> profiles_;

  mutable std::mutex mutex_;  // guards series_, alerted_, last_*
  std::map<std::string, std::unique_ptr<Series>> series_;  // key: endpoint \0 model \0 version
  std::set<std::string> alerted_;                          // distributions in alert at the last take_new_alerts
  Series* last_series_ = nullptr;                          // the previous entry's series (most entries repeat it)
  std::int64_t last_epoch_ = 0;
};

}  // namespace orchard
