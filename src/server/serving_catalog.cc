#include "server/serving_catalog.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"
#include "registry/registry.h"

namespace orchard {

namespace {

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 1469598103934665603ull) {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// splitmix64's finalizer: FNV-1a's high bits alone are not uniform enough for a draw.
std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::shared_ptr<const PredictionContext> make_trace_context(const std::string& endpoint, const std::string& arm,
                                                            const LoadedVersion& version) {
  auto context = std::make_shared<PredictionContext>();
  context->endpoint = endpoint;
  context->model = version.model;
  context->version = version.number;
  context->artifact_sha256 = version.artifact_sha256;
  context->arm = arm;
  context->predictor = version.predictor;
  return context;
}

const ServedEndpoint::Arm& ServedEndpoint::pick(std::string_view sticky_value, double draw) const {
  if (arms.size() == 1) return arms.front();
  if (!sticky_value.empty()) {
    // Weighted rendezvous hashing: every arm scores the key with a hash of its own, -ln(u) / weight,
    // and the lowest score wins. Each arm gets its weight's share of keys, and a key moves from one
    // arm to another only when the second's weight grows relative to the first's (the cumulative
    // weight line used before moved keys between arms whose weights did not change: 80/10/10 to
    // 70/15/15 sent some of B's users to C). Salted by the endpoint's name and the arm's target, so
    // that one user is not in the first arm of every endpoint.
    const std::uint64_t endpoint_seed = fnv1a(name);
    const Arm* best = &arms.back();
    double best_score = std::numeric_limits<double>::infinity();
    double previous = 0;
    for (const Arm& arm : arms) {
      const double weight = arm.upper - previous;
      previous = arm.upper;
      if (!(weight > 0)) continue;
      const std::uint64_t hash = mix(fnv1a(sticky_value, fnv1a(arm.target, endpoint_seed)));
      const double u = (static_cast<double>(hash >> 11) + 0.5) * 0x1.0p-53;  // in (0, 1)
      const double score = -std::log(u) / weight;
      if (score < best_score) {
        best_score = score;
        best = &arm;
      }
    }
    return *best;
  }
  const double point = draw * total_weight;
  for (const Arm& arm : arms) {
    if (point < arm.upper) return arm;
  }
  return arms.back();
}

namespace {
std::atomic<std::uint64_t> next_catalog_id{1};
}

ServingCatalog::ServingCatalog(Registry& registry) : registry_(registry), id_(next_catalog_id++) {
  snapshot_ = std::make_shared<CatalogSnapshot>();
}

std::shared_ptr<const CatalogSnapshot> ServingCatalog::current() const {
  // Keyed by the catalog's id, not its address: a new catalog at a reused address is another catalog.
  thread_local std::uint64_t owner = 0;
  thread_local std::uint64_t seen = ~0ull;
  thread_local std::shared_ptr<const CatalogSnapshot> cached;
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  if (owner != id_ || seen != generation) {
    std::lock_guard lock(snapshot_mutex_);
    cached = snapshot_;
    seen = cached->generation;
    owner = id_;
  }
  return cached;
}

void ServingCatalog::publish(std::shared_ptr<CatalogSnapshot> next) {
  std::lock_guard lock(snapshot_mutex_);
  next->generation = snapshot_->generation + 1;
  snapshot_ = std::move(next);
  generation_.store(snapshot_->generation, std::memory_order_release);
}

std::shared_ptr<const LoadedVersion> ServingCatalog::load(
    const std::string& model, std::int64_t number,
    const std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<const LoadedVersion>>& known) {
  if (auto it = known.find({model, number}); it != known.end()) return it->second;
  const VersionRecord record = registry_.resolve(ModelRef{model, number, std::nullopt});
  const auto started = std::chrono::steady_clock::now();
  auto loaded = std::make_shared<LoadedVersion>();
  loaded->artifact_bytes = record.artifact_size;
  loaded->model = model;
  loaded->number = number;
  loaded->artifact_sha256 = record.artifact_sha256;
  loaded->predictor = registry_.load(record);
  loaded->memory_bytes = static_cast<std::int64_t>(loaded->predictor->memory_bytes());
  // Warm: run one prediction so that the first request pays for nothing (code paths, page faults).
  std::vector<double> row(static_cast<std::size_t>(std::max(1, loaded->predictor->num_features())), std::nan(""));
  std::vector<double> out(static_cast<std::size_t>(std::max(loaded->predictor->num_values(false), loaded->predictor->num_values(true))));
  loaded->predictor->predict_row(row.data(), out.data(), false);
  loaded->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return loaded;
}

void ServingCatalog::refresh() {
  std::lock_guard refresh_lock(refresh_mutex_);
  const auto previous = current();
  auto next = std::make_shared<CatalogSnapshot>();
  auto known = previous->versions;
  for (const auto& [key, version] : pinned_) known.emplace(key, version);
  Store& store = registry_.store();

  auto resolve_target = [&](const std::string& model, const std::string& target) -> std::int64_t {
    if (!target.empty() && target[0] == '@') {
      auto alias = store.find_alias(model, target.substr(1));
      if (!alias) throw Error(ErrorKind::kNotFound, "model \"" + model + "\" has no alias \"" + target.substr(1) + "\"");
      return alias->version;
    }
    std::int64_t number = 0;
    std::from_chars(target.data(), target.data() + target.size(), number);
    return number;
  };
  auto use = [&](const std::string& model, std::int64_t number) {
    auto loaded = load(model, number, known);
    known[{model, number}] = loaded;
    next->versions[{model, number}] = loaded;
    return loaded;
  };

  // Explicit routes first; then one endpoint per model without one: its production alias, else its
  // latest version that is not archived.
  std::vector<EndpointRoute> routes = store.list_routes();
  for (const ModelRecord& model : store.list_models()) {
    if (std::any_of(routes.begin(), routes.end(), [&](const EndpointRoute& r) { return r.endpoint == model.name; })) continue;
    EndpointRoute route;
    route.endpoint = model.name;
    route.model = model.name;
    if (store.find_alias(model.name, "production")) {
      route.arms.push_back({"@production", 1.0});
    } else {
      std::int64_t latest = 0;
      for (const VersionRecord& v : store.list_versions(model.name)) if (!v.archived) latest = v.number;
      if (latest == 0) continue;
      route.arms.push_back({std::to_string(latest), 1.0});
    }
    routes.push_back(std::move(route));
  }
  for (const EndpointRoute& route : routes) {
    if (unloaded_.count(route.endpoint)) continue;
    try {
      ServedEndpoint endpoint;
      endpoint.name = route.endpoint;
      endpoint.model = route.model;
      endpoint.explicit_route = !route.updated_at.empty();
      for (const RouteArm& arm : route.arms) {
        if (arm.weight <= 0) continue;
        endpoint.total_weight += arm.weight;
        auto version = use(route.model, resolve_target(route.model, arm.target));
        auto trace = make_trace_context(route.endpoint, arm.target, *version);
        auto counters = stats(route.endpoint, version->model, version->number);
        endpoint.arms.push_back({endpoint.total_weight, arm.target, std::move(version), std::move(trace), std::move(counters)});
      }
      for (const std::string& shadow : route.shadows) {
        endpoint.shadows.push_back(use(route.model, resolve_target(route.model, shadow)));
        endpoint.shadow_traces.push_back(
            make_trace_context(route.endpoint, "shadow:" + std::to_string(endpoint.shadows.back()->number), *endpoint.shadows.back()));
      }
      endpoint.durable = route.trace == "durable";
      if (route.sticky.rfind("header:", 0) == 0) {
        endpoint.sticky_header = route.sticky.substr(7);
        std::transform(endpoint.sticky_header.begin(), endpoint.sticky_header.end(), endpoint.sticky_header.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      } else if (route.sticky.rfind("field:", 0) == 0) {
        endpoint.sticky_field = route.sticky.substr(6);
      }
      if (!endpoint.arms.empty()) next->endpoints.emplace(endpoint.name, std::move(endpoint));
    } catch (const std::exception& e) {
      // One broken route must not take the others down: it keeps serving what it served before.
      next->problems.push_back("endpoint " + route.endpoint + ": " + e.what());
      if (auto old = previous->endpoints.find(route.endpoint); old != previous->endpoints.end()) {
        next->endpoints.emplace(old->first, old->second);
        for (const auto& arm : old->second.arms) next->versions[{arm.version->model, arm.version->number}] = arm.version;
      }
    }
  }
  for (const auto& [key, version] : pinned_) next->versions.emplace(key, version);
  publish(std::move(next));
}

std::shared_ptr<const EndpointStats> ServingCatalog::stats(const std::string& endpoint, const std::string& model, std::int64_t version) {
  std::lock_guard lock(stats_mutex_);
  auto& slot = stats_[{endpoint, model, version}];
  if (!slot) {
    slot = std::make_shared<EndpointStats>();
    slot->endpoint = endpoint;
    slot->model = model;
    slot->version = version;
  }
  return slot;
}

std::vector<std::shared_ptr<const EndpointStats>> ServingCatalog::all_stats() const {
  std::lock_guard lock(stats_mutex_);
  std::vector<std::shared_ptr<const EndpointStats>> out;
  for (const auto& [key, stats] : stats_) out.push_back(stats);
  return out;
}

void ServingCatalog::set_unloaded(const std::string& endpoint, bool unloaded) {
  {
    std::lock_guard lock(refresh_mutex_);
    if (unloaded) {
      unloaded_.insert(endpoint);
      // Drop what was pinned for the endpoint's model (an endpoint may be named otherwise than its model).
      std::string model = endpoint;
      const auto snapshot = current();
      if (auto it = snapshot->endpoints.find(endpoint); it != snapshot->endpoints.end()) model = it->second.model;
      for (auto it = pinned_.begin(); it != pinned_.end();) it = it->first.first == model ? pinned_.erase(it) : std::next(it);
    } else {
      unloaded_.erase(endpoint);
    }
  }
  refresh();
}

bool ServingCatalog::is_unloaded(const std::string& endpoint) const {
  std::lock_guard lock(const_cast<std::mutex&>(refresh_mutex_));
  return unloaded_.count(endpoint) > 0;
}

std::shared_ptr<const LoadedVersion> ServingCatalog::version(const std::string& model, std::int64_t number) {
  {
    const auto snapshot = current();
    if (auto it = snapshot->versions.find({model, number}); it != snapshot->versions.end()) {
      it->second->last_asked.store(++asked_, std::memory_order_relaxed);
      return it->second;
    }
  }
  std::lock_guard refresh_lock(refresh_mutex_);
  const auto snapshot = current();
  if (auto it = snapshot->versions.find({model, number}); it != snapshot->versions.end()) {
    it->second->last_asked.store(++asked_, std::memory_order_relaxed);
    return it->second;
  }
  auto loaded = load(model, number, snapshot->versions);
  loaded->last_asked.store(++asked_, std::memory_order_relaxed);
  pinned_[{model, number}] = loaded;
  auto next = std::make_shared<CatalogSnapshot>(*snapshot);
  next->versions[{model, number}] = loaded;
  while (pinned_.size() > kMaxPinned) {
    auto oldest = pinned_.begin();
    for (auto it = pinned_.begin(); it != pinned_.end(); ++it) {
      if (it->second->last_asked.load(std::memory_order_relaxed) < oldest->second->last_asked.load(std::memory_order_relaxed)) oldest = it;
    }
    const auto key = oldest->first;
    pinned_.erase(oldest);
    // Still in the snapshot only if a route serves it.
    bool routed = false;
    for (const auto& [name, endpoint] : next->endpoints) {
      for (const auto& arm : endpoint.arms) routed = routed || (arm.version->model == key.first && arm.version->number == key.second);
      for (const auto& shadow : endpoint.shadows) routed = routed || (shadow->model == key.first && shadow->number == key.second);
    }
    if (!routed) next->versions.erase(key);
  }
  publish(std::move(next));
  return loaded;
}

}  // namespace orchard
