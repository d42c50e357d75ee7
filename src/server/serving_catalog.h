// What the server serves right now: endpoints, their routes, and the loaded model versions.
//
// The catalog is an immutable snapshot swapped as a whole. refresh() reads the registry (aliases,
// routes), loads, compiles and warms every version a route needs *before* publishing, then swaps
// the snapshot: new requests see the new routes at once, requests in flight keep the snapshot (and
// the versions) they started with, and a version is freed when the last request using it ends.
// Readers take no lock: a thread re-reads the snapshot only when a generation counter has moved.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/predictor.h"
#include "registry/records.h"
#include "tracing/prediction_record.h"

namespace orchard {

class Registry;

// Upper bounds (seconds) of the latency histograms exported at /metrics.
inline constexpr double kLatencyBounds[] = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1.0};
inline constexpr std::size_t kLatencyBuckets = sizeof(kLatencyBounds) / sizeof(kLatencyBounds[0]) + 1;  // + the +Inf bucket

// A latency histogram updated with relaxed atomics (no lock on the request path).
struct LatencyHistogram {
  std::atomic<std::uint64_t> buckets[kLatencyBuckets] = {};  // not cumulative; the exporter sums
  std::atomic<std::uint64_t> nanoseconds{0};
  void record(std::uint64_t ns) {
    const double seconds = static_cast<double>(ns) * 1e-9;
    std::size_t b = 0;
    while (b + 1 < kLatencyBuckets && seconds > kLatencyBounds[b]) ++b;
    buckets[b].fetch_add(1, std::memory_order_relaxed);
    nanoseconds.fetch_add(ns, std::memory_order_relaxed);
  }
};

// A version loaded and warmed, with counters for /stats and /metrics.
struct LoadedVersion {
  std::string model;
  std::int64_t number = 0;
  std::string artifact_sha256;
  std::shared_ptr<const Predictor> predictor;
  mutable std::atomic<std::uint64_t> requests{0};
  mutable std::atomic<std::uint64_t> rows{0};
  mutable std::atomic<std::uint64_t> failures{0};
  mutable std::atomic<std::uint64_t> shadow_requests{0};
  mutable std::atomic<std::uint64_t> nanoseconds{0};
  mutable std::atomic<std::uint64_t> last_asked{0};  // ServingCatalog::version(): when it was last asked for (LRU of pinned versions)
  mutable LatencyHistogram latency;  // model time per request (live requests; shadows excluded)
  double load_seconds = 0;           // read, verify, parse, compile and warm
  std::int64_t artifact_bytes = 0;
  std::int64_t memory_bytes = 0;     // what the predictor holds in memory (Predictor::memory_bytes)

  std::string label() const { return model + ":" + std::to_string(number); }
};

// Requests an endpoint sent to one version (for /metrics): kept by the catalog across swaps, so the
// counters only ever grow.
struct EndpointStats {
  std::string endpoint, model;
  std::int64_t version = 0;
  mutable std::atomic<std::uint64_t> answered{0};
  mutable std::atomic<std::uint64_t> failed{0};  // the model or the prediction log failed the request
  mutable LatencyHistogram latency;               // routing, model and logging time per request
};

struct ServedEndpoint {
  std::string name;
  std::string model;
  struct Arm {
    double upper = 0;  // cumulative weight: this arm takes draws in [previous upper, upper)
    std::string target;
    std::shared_ptr<const LoadedVersion> version;
    std::shared_ptr<const PredictionContext> trace;  // what the prediction log records for its rows
    std::shared_ptr<const EndpointStats> stats;
  };
  std::vector<Arm> arms;
  double total_weight = 0;
  std::string sticky_header;  // lower-case header name, or empty
  std::string sticky_field;   // request field name, or empty
  std::vector<std::shared_ptr<const LoadedVersion>> shadows;
  std::vector<std::shared_ptr<const PredictionContext>> shadow_traces;  // one per shadow
  bool explicit_route = false;
  bool durable = false;  // the route's trace mode: responses wait until their records are committed

  // The arm for a request: by the sticky key's hash when there is one, else by `draw` in [0, 1).
  const Arm& pick(std::string_view sticky_value, double draw) const;
};

// The prediction log's context for rows that `version` answers on `endpoint` through `arm`.
std::shared_ptr<const PredictionContext> make_trace_context(const std::string& endpoint, const std::string& arm,
                                                            const LoadedVersion& version);

struct CatalogSnapshot {
  std::uint64_t generation = 0;
  std::map<std::string, ServedEndpoint> endpoints;  // by endpoint name
  std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const LoadedVersion>> versions;
  std::vector<std::string> problems;  // what could not be served, and why (shown by /v2/health/ready)
};

class ServingCatalog {
 public:
  explicit ServingCatalog(Registry& registry);

  // Re-reads the registry, loads what the routes need, publishes. Thread-safe; calls are serialized.
  void refresh();

  // The current snapshot: no lock in the common case (see the file comment).
  std::shared_ptr<const CatalogSnapshot> current() const;

  // Triton's repository API: an unloaded endpoint is left out of the snapshot (and its versions freed)
  // until it is loaded again. In memory only: a restart serves everything.
  void set_unloaded(const std::string& endpoint, bool unloaded);
  bool is_unloaded(const std::string& endpoint) const;

  // A specific version (e.g. /v2/models/churn/versions/2): from the snapshot, else loaded now and
  // kept. Throws Error(kNotFound) for an unknown model or version.
  std::shared_ptr<const LoadedVersion> version(const std::string& model, std::int64_t number);

  // The counters of (endpoint, model, version), made on first use and kept for the catalog's life.
  std::shared_ptr<const EndpointStats> stats(const std::string& endpoint, const std::string& model, std::int64_t version);
  std::vector<std::shared_ptr<const EndpointStats>> all_stats() const;

 private:
  std::shared_ptr<const LoadedVersion> load(const std::string& model, std::int64_t number,
                                            const std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const LoadedVersion>>& known);
  void publish(std::shared_ptr<CatalogSnapshot> next);

  Registry& registry_;
  std::mutex refresh_mutex_;                 // one refresh (or on-demand load) at a time
  mutable std::mutex snapshot_mutex_;        // guards snapshot_ (taken only when the generation moved)
  std::shared_ptr<const CatalogSnapshot> snapshot_;
  std::atomic<std::uint64_t> generation_{0};
  // Versions loaded on demand (requests naming a version no route serves); at most kMaxPinned are
  // kept, so requests cannot make the server hold the whole registry in memory. The least recently
  // asked for goes first (LoadedVersion::last_asked, stamped without a lock on every hit): a version
  // in steady use is not reloaded because others were loaded after it.
  std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const LoadedVersion>> pinned_;
  std::atomic<std::uint64_t> asked_{0};  // the clock of last_asked
  static constexpr std::size_t kMaxPinned = 8;
  const std::uint64_t id_;  // distinguishes catalogs in the per-thread snapshot cache
  std::set<std::string> unloaded_;  // guarded by refresh_mutex_
  mutable std::mutex stats_mutex_;
  std::map<std::tuple<std::string, std::string, std::int64_t>, std::shared_ptr<EndpointStats>> stats_;
};

}  // namespace orchard
