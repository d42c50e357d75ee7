#include "monitoring/drift_monitor.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

#include "common/error.h"
#include "monitoring/bucketed_counts.h"

namespace orchard {

using nlohmann::json;
using Clock = std::chrono::system_clock;

struct DriftMonitor::CachedProfile {
  enum class State { kReady, kNone, kUnreadable };
  State state = State::kNone;
  ReferenceProfile profile;
  std::string problem;
  Clock::time_point retry_at = Clock::time_point::max();  // a failed lookup is tried again from then
};

struct DriftMonitor::Series {
  std::string endpoint, model;
  std::int64_t version = 0;
  std::shared_ptr<const CachedProfile> profile;
  bool ready = false;       // the profile is readable and matches the model
  std::string problem;      // why not, when the profile exists
  std::size_t num_features = 0;
  std::size_t num_outputs = 0;
  std::vector<const ReferenceBins*> distributions;  // features, then outputs
  std::vector<std::size_t> offsets;                 // of each distribution's bins in a bucket; one past the last at the end
  std::optional<BucketedCounts> live;               // one bin per distribution bin (none without a profile)
  std::set<std::string> arms;
  std::int64_t last_epoch = 0;

  const ReferenceBins& distribution(std::size_t d) const { return *distributions[d]; }
  bool is_output(std::size_t d) const { return d >= num_features; }
};

namespace {

constexpr std::size_t kMaxArmsListed = 32;
// Bounds the memory of one version's buckets (4 bytes per bin per bucket: 1440 minute buckets of
// 16384 bins are 90 MiB); a profile beyond it is reported instead of counted. A model of 1000
// numeric features has 11,000 bins.
constexpr std::size_t kMaxBinsPerVersion = 16384;
constexpr std::chrono::seconds kLookupRetry{60};

std::string series_key(const std::string& endpoint, const std::string& model, std::int64_t version) {
  std::string key = endpoint;
  key += '\0';
  key += model;
  key += '\0';
  key += std::to_string(version);
  return key;
}

std::uint64_t total_of(const std::uint64_t* counts, std::size_t n) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += counts[i];
  return sum;
}

double rate(std::uint64_t part, std::uint64_t whole) { return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0; }

// Prometheus label values escape backslash, double quote and newline.
std::string label_value(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void metric_header(std::string& out, const char* name, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

int severity(const std::string& status) {
  if (status == "alert") return 3;
  if (status == "watch") return 2;
  if (status == "ok") return 1;
  return 0;
}

}  // namespace

DriftMonitor::DriftMonitor(ProfileLookup lookup, DriftMonitorOptions options) : lookup_(std::move(lookup)), options_(std::move(options)) {
  if (options_.bucket_width.count() < 1) {
    throw Error(ErrorKind::kInvalidArgument, "bucket width of " + std::to_string(options_.bucket_width.count()) + " s", "drift monitor options",
                "at least 1 second");
  }
  if (options_.longest_window < options_.bucket_width || options_.longest_window.count() / options_.bucket_width.count() > 1'000'000) {
    throw Error(ErrorKind::kInvalidArgument, "longest window of " + std::to_string(options_.longest_window.count()) + " s", "drift monitor options",
                "between one bucket and a million buckets");
  }
  if (!(options_.thresholds.watch <= options_.thresholds.alert)) {
    throw Error(ErrorKind::kInvalidArgument, "watch threshold above the alert threshold", "drift monitor options", "watch <= alert");
  }
  if (!options_.clock) options_.clock = [] { return Clock::now(); };
  // The longest window's whole buckets, and the current one, which is still filling.
  ring_size_ = static_cast<std::size_t>((options_.longest_window.count() + options_.bucket_width.count() - 1) / options_.bucket_width.count()) + 1;
}

DriftMonitor::~DriftMonitor() = default;

std::int64_t DriftMonitor::epoch_of(Clock::time_point time) const {
  const std::int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  const std::int64_t width = options_.bucket_width.count();
  return seconds >= 0 ? seconds / width : -((-seconds + width - 1) / width);
}

std::size_t DriftMonitor::buckets_in(std::chrono::seconds window) const {
  const std::int64_t width = options_.bucket_width.count();
  const std::int64_t n = (std::max<std::int64_t>(window.count(), 1) + width - 1) / width;
  return static_cast<std::size_t>(std::min<std::int64_t>(n, static_cast<std::int64_t>(ring_size_) - 1));
}

std::shared_ptr<const DriftMonitor::CachedProfile> DriftMonitor::profile_for(const std::string& model, std::int64_t version, Clock::time_point now) {
  const auto key = std::make_pair(model, version);
  {
    std::lock_guard lock(profiles_mutex_);
    const auto it = profiles_.find(key);
    if (it != profiles_.end() && now < it->second->retry_at) return it->second;
  }
  auto cached = std::make_shared<CachedProfile>();
  try {
    const std::string text = lookup_ ? lookup_(model, version) : std::string();
    if (text.empty()) {
      cached->state = CachedProfile::State::kNone;
    } else {
      try {
        cached->profile = parse_reference_profile(text);
        cached->state = CachedProfile::State::kReady;
      } catch (const Error& e) {
        cached->state = CachedProfile::State::kUnreadable;
        cached->problem = e.what();
      }
    }
  } catch (const std::exception& e) {
    cached->state = CachedProfile::State::kUnreadable;
    cached->problem = std::string("profile lookup failed: ") + e.what();
    cached->retry_at = now + kLookupRetry;
  }
  std::lock_guard lock(profiles_mutex_);
  profiles_[key] = cached;
  return cached;
}

std::unique_ptr<DriftMonitor::Series> DriftMonitor::make_series(const PredictionContext& context, Clock::time_point now) {
  auto series = std::make_unique<Series>();
  series->endpoint = context.endpoint;
  series->model = context.model;
  series->version = context.version;
  series->profile = profile_for(context.model, context.version, now);
  series->live.emplace(ring_size_, 0);  // rows only, until the profile is known to fit
  const CachedProfile& cached = *series->profile;
  if (context.predictor) series->num_features = static_cast<std::size_t>(context.predictor->num_features());
  if (cached.state == CachedProfile::State::kUnreadable) series->problem = cached.problem;
  if (cached.state != CachedProfile::State::kReady) return series;

  const ReferenceProfile& profile = cached.profile;
  if (!context.predictor) series->num_features = profile.features.size();
  if (profile.features.size() != series->num_features) {
    series->problem = "the profile describes " + std::to_string(profile.features.size()) + " features, the model has " +
                      std::to_string(series->num_features);
    return series;
  }
  if (context.predictor) {
    const auto& features = context.predictor->model().features;
    for (std::size_t f = 0; f < features.size(); ++f) {
      if (features[f].name != profile.features[f].name) {
        series->problem = "the profile's feature " + std::to_string(f) + " is \"" + profile.features[f].name + "\", the model's is \"" +
                          features[f].name + "\"";
        return series;
      }
    }
  }
  series->num_outputs = profile.outputs.size();
  series->offsets.push_back(0);
  for (const auto& bins : profile.features) series->distributions.push_back(&bins);
  for (const auto& bins : profile.outputs) series->distributions.push_back(&bins);
  for (const auto* bins : series->distributions) series->offsets.push_back(series->offsets.back() + bins->bins());
  if (series->offsets.back() > kMaxBinsPerVersion) {
    series->problem = "the profile has " + std::to_string(series->offsets.back()) + " bins in all, more than the " +
                      std::to_string(kMaxBinsPerVersion) + " the drift monitor counts per version";
    return series;
  }
  series->live.emplace(ring_size_, series->offsets.back());
  series->ready = true;
  return series;
}

void DriftMonitor::drop_stale(std::int64_t epoch) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second->last_epoch > epoch - static_cast<std::int64_t>(ring_size_)) {
      ++it;
      continue;
    }
    const std::string prefix = it->first + '\0';
    for (auto a = alerted_.lower_bound(prefix); a != alerted_.end() && a->compare(0, prefix.size(), prefix) == 0;) a = alerted_.erase(a);
    if (last_series_ == it->second.get()) last_series_ = nullptr;
    it = series_.erase(it);
  }
}

void DriftMonitor::observe(const PredictionView& entry) noexcept {
  if (!entry.context) return;
  const PredictionContext& context = *entry.context;
  try {
    const Clock::time_point now = options_.clock();
    const std::int64_t epoch = epoch_of(now);
    std::unique_lock lock(mutex_);
    if (epoch != last_epoch_) {
      drop_stale(epoch);
      last_epoch_ = epoch;
    }
    Series* series = last_series_;
    if (!series || series->version != context.version || series->model != context.model || series->endpoint != context.endpoint ||
        now >= series->profile->retry_at) {
      const std::string key = series_key(context.endpoint, context.model, context.version);
      auto it = series_.find(key);
      if (it == series_.end() || now >= it->second->profile->retry_at) {
        // The lookup may read a store: outside the lock, so reports are not held up by it.
        lock.unlock();
        auto made = make_series(context, now);
        lock.lock();
        it = series_.insert_or_assign(key, std::move(made)).first;
      }
      series = it->second.get();
      last_series_ = series;
    }

    BucketedCounts::Bucket& bucket = series->live->at(epoch);
    const std::size_t nf = series->num_features;
    std::size_t count = entry.count();
    if (nf && static_cast<std::size_t>(entry.num_features()) != nf) count = 0;  // rows of another shape: not comparable
    bucket.rows += count;
    if (context.is_shadow()) bucket.shadow_rows += count;
    series->last_epoch = epoch;
    if (series->arms.size() < kMaxArmsListed) series->arms.insert(context.arm);
    if (!series->ready || count == 0) return;

    std::uint32_t* counts = bucket.counts.data();
    const ReferenceBins* const* distributions = series->distributions.data();
    const std::size_t* offsets = series->offsets.data();
    const double* x = entry.rows;
    for (std::size_t r = 0; r < count; ++r, x += nf) {
      for (std::size_t f = 0; f < nf; ++f) ++counts[offsets[f] + distributions[f]->bin_of(x[f])];
    }
    const std::size_t no = series->num_outputs;
    if (no && !entry.raw && entry.width == static_cast<int>(no)) {
      const double* y = entry.outputs;
      for (std::size_t r = 0; r < count; ++r, y += no) {
        for (std::size_t k = 0; k < no; ++k) ++counts[offsets[nf + k] + distributions[nf + k]->bin_of(y[k])];
      }
    }
  } catch (...) {
    // Only allocation can fail here; losing one entry's counts is better than losing the writer thread.
  }
}

namespace {

json distribution_json(const ReferenceBins& reference, const std::uint64_t* live, const DriftMonitorOptions& options) {
  const std::size_t n = reference.bins();
  const std::uint64_t live_rows = total_of(live, n);
  const double value = psi(reference.counts.data(), live, n);
  json out = {{"name", reference.name},
              {"kind", reference.kind == ReferenceBins::Kind::kNumeric ? "numeric" : "categorical"},
              {"psi", value},
              {"status", live_rows < options.min_rows ? "not_enough_data" : drift_status_name(drift_status(value, options.thresholds))},
              {"rows", live_rows},
              {"missing_rate_reference", rate(reference.counts[reference.missing_bin()], reference.total())},
              {"missing_rate_live", rate(live[reference.missing_bin()], live_rows)}};
  if (reference.kind == ReferenceBins::Kind::kNumeric) out["edges"] = reference.edges;
  else out["categories"] = reference.categories;
  out["reference_fractions"] = fractions(reference.counts.data(), n);
  out["live_fractions"] = fractions(live, n);
  return out;
}

}  // namespace

json DriftMonitor::report(const std::string& endpoint, std::chrono::seconds window) const {
  const std::int64_t epoch = epoch_of(options_.clock());
  const std::size_t k = buckets_in(window);
  json versions = json::array();
  std::lock_guard lock(mutex_);
  std::vector<const Series*> seen;
  for (const auto& [key, series] : series_) {
    if (series->endpoint == endpoint) seen.push_back(series.get());
  }
  std::sort(seen.begin(), seen.end(), [](const Series* a, const Series* b) {
    return a->model != b->model ? a->model < b->model : a->version < b->version;
  });
  for (const Series* series : seen) {
    const BucketedCounts::Sum live = series->live->sum(epoch - static_cast<std::int64_t>(k), epoch);
    if (live.rows == 0) continue;
    json version = {{"model", series->model}, {"version", series->version}, {"rows", live.rows}, {"shadow_rows", live.shadow_rows},
                    {"arms", series->arms}};
    if (!series->ready) {
      const bool none = series->profile->state == CachedProfile::State::kNone;
      version["status"] = none ? "no_profile" : "profile_unreadable";
      if (!none) version["problem"] = series->problem;
      versions.push_back(std::move(version));
      continue;
    }
    json features = json::array(), predictions = json::array();
    std::string worst = "ok";
    for (std::size_t d = 0; d < series->distributions.size(); ++d) {
      json entry = distribution_json(series->distribution(d), live.counts.data() + series->offsets[d], options_);
      const std::string status = entry["status"];
      if (severity(status) > severity(worst)) worst = status;
      (series->is_output(d) ? predictions : features).push_back(std::move(entry));
    }
    version["status"] = live.rows < options_.min_rows ? "not_enough_data" : worst;
    version["features"] = std::move(features);
    version["predictions"] = std::move(predictions);
    versions.push_back(std::move(version));
  }
  const auto clamped = std::chrono::seconds(static_cast<std::int64_t>(k) * options_.bucket_width.count());
  return {{"endpoint", endpoint},
          {"window_seconds", clamped.count()},
          {"thresholds", {{"watch", options_.thresholds.watch}, {"alert", options_.thresholds.alert}}},
          {"min_rows", options_.min_rows},
          {"versions", std::move(versions)}};
}

json DriftMonitor::psi_series(const std::string& endpoint, const std::string& model, std::int64_t version, DriftSubject subject,
                              const std::string& name, std::chrono::seconds window, std::chrono::seconds step) const {
  const std::int64_t epoch = epoch_of(options_.clock());
  const auto width = options_.bucket_width.count();
  const std::string where = "drift of " + model + " version " + std::to_string(version) + " on endpoint " + endpoint;
  std::lock_guard lock(mutex_);
  const auto it = series_.find(series_key(endpoint, model, version));
  if (it == series_.end()) throw Error(ErrorKind::kNotFound, "no rows seen in the last " + std::to_string(options_.longest_window.count()) + " s", where);
  const Series& series = *it->second;
  if (!series.ready) {
    throw Error(ErrorKind::kNotFound, series.problem.empty() ? "the version has no reference profile" : "profile unreadable: " + series.problem, where);
  }
  std::size_t d = series.distributions.size();
  for (std::size_t i = 0; i < series.distributions.size(); ++i) {
    if (series.is_output(i) == (subject == DriftSubject::kPrediction) && series.distribution(i).name == name) d = i;
  }
  if (d == series.distributions.size()) {
    throw Error(ErrorKind::kNotFound, std::string("no ") + (subject == DriftSubject::kPrediction ? "output" : "feature") + " named \"" + name + "\"",
                where, "a name from the drift report");
  }
  const ReferenceBins& reference = series.distribution(d);
  const std::size_t n = reference.bins();
  const std::int64_t step_buckets = std::max<std::int64_t>(1, (step.count() + width - 1) / width);
  const std::int64_t total = static_cast<std::int64_t>(buckets_in(window));
  const std::int64_t points = (total + step_buckets - 1) / step_buckets;
  // The last point ends with the current bucket.
  const std::int64_t first = epoch - points * step_buckets + 1;
  const std::vector<std::uint64_t> live = series.live->sum_steps(first, step_buckets, static_cast<std::size_t>(points), series.offsets[d], n);
  json list = json::array();
  for (std::int64_t p = 0; p < points; ++p) {
    const std::uint64_t* counts = live.data() + static_cast<std::size_t>(p) * n;
    const std::uint64_t rows = total_of(counts, n);
    const std::int64_t end_epoch = first + (p + 1) * step_buckets;  // exclusive
    const Clock::time_point end{std::chrono::seconds(end_epoch * width)};
    list.push_back({{"end", iso8601_utc(end)}, {"rows", rows}, {"psi", rows ? json(psi(reference.counts.data(), counts, n)) : json(nullptr)}});
  }
  return {{"endpoint", endpoint},
          {"model", model},
          {"version", version},
          {"subject", subject == DriftSubject::kPrediction ? "prediction" : "feature"},
          {"name", name},
          {"step_seconds", step_buckets * width},
          {"points", std::move(list)}};
}

std::vector<DriftAlert> DriftMonitor::take_new_alerts() {
  const Clock::time_point now = options_.clock();
  const std::int64_t epoch = epoch_of(now);
  const std::size_t k = buckets_in(options_.alert_window);
  std::vector<DriftAlert> alerts;
  std::lock_guard lock(mutex_);
  for (const auto& [key, series] : series_) {
    if (!series->ready) continue;
    const BucketedCounts::Sum live = series->live->sum(epoch - static_cast<std::int64_t>(k), epoch);
    for (std::size_t d = 0; d < series->distributions.size(); ++d) {
      const ReferenceBins& reference = series->distribution(d);
      const std::uint64_t* counts = live.counts.data() + series->offsets[d];
      const std::uint64_t rows = total_of(counts, reference.bins());
      if (rows < options_.min_rows) continue;  // unknown: an alert stays raised, none is raised
      const double value = psi(reference.counts.data(), counts, reference.bins());
      const std::string alert_key = key + '\0' + std::to_string(d);
      if (value < options_.thresholds.alert) {
        alerted_.erase(alert_key);
        continue;
      }
      if (!alerted_.insert(alert_key).second) continue;
      DriftAlert alert;
      alert.endpoint = series->endpoint;
      alert.model = series->model;
      alert.version = series->version;
      alert.subject = series->is_output(d) ? "prediction" : "feature";
      alert.feature = reference.name;
      alert.psi = value;
      alert.threshold = options_.thresholds.alert;
      alert.window = std::chrono::seconds(static_cast<std::int64_t>(k) * options_.bucket_width.count());
      alert.rows = rows;
      alert.time = now;
      alerts.push_back(std::move(alert));
    }
  }
  return alerts;
}

void DriftMonitor::append_metrics(std::string& out) const {
  const std::int64_t epoch = epoch_of(options_.clock());
  const std::size_t k = buckets_in(options_.alert_window);
  std::string psi_lines, prediction_lines, row_lines;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, series] : series_) {
      if (!series->ready) continue;
      const BucketedCounts::Sum live = series->live->sum(epoch - static_cast<std::int64_t>(k), epoch);
      if (live.rows == 0) continue;
      const std::string labels = "endpoint=\"" + label_value(series->endpoint) + "\",model=\"" + label_value(series->model) + "\",version=\"" +
                                 std::to_string(series->version) + "\"";
      row_lines += "orchard_drift_rows{" + labels + "} " + std::to_string(live.rows) + "\n";
      for (std::size_t d = 0; d < series->distributions.size(); ++d) {
        const ReferenceBins& reference = series->distribution(d);
        const double value = psi(reference.counts.data(), live.counts.data() + series->offsets[d], reference.bins());
        if (series->is_output(d)) {
          prediction_lines += "orchard_drift_prediction_psi{" + labels + ",output=\"" + label_value(reference.name) + "\"} " + number_text(value) + "\n";
        } else {
          psi_lines += "orchard_drift_psi{" + labels + ",feature=\"" + label_value(reference.name) + "\"} " + number_text(value) + "\n";
        }
      }
    }
  }
  const std::string window = std::to_string(static_cast<std::int64_t>(k) * options_.bucket_width.count());
  metric_header(out, "orchard_drift_psi", ("PSI of each input feature against the version's reference profile over the last " + window + " s.").c_str());
  out += psi_lines;
  metric_header(out, "orchard_drift_prediction_psi",
                ("PSI of each model output against the version's reference profile over the last " + window + " s.").c_str());
  out += prediction_lines;
  metric_header(out, "orchard_drift_rows", ("Rows counted for drift over the last " + window + " s, by endpoint and version.").c_str());
  out += row_lines;
}

std::size_t DriftMonitor::bucket_bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t bytes = 0;
  for (const auto& [key, series] : series_) {
    bytes += series->live->bytes();
  }
  return bytes;
}

}  // namespace orchard
